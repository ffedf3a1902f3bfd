package listener

import (
	"fmt"
	"strings"

	"github.com/superguard/superguard/pkg/confdoctor"
	"github.com/superguard/superguard/pkg/config"
)

// confDoctor is -check's look at the supervisord.conf that runs the
// listener (package confdoctor): each finding on a line of its own on
// stderr. It returns how many it found and, when the conf was checked,
// what -check's OK line adds ("; supervisord.conf PATH: no findings").
//
// A file named by -supervisord-conf or $SUPERGUARD_SUPERVISORD_CONF must
// run this listener; one found by the search that does not is another
// supervisord's (Debian's /etc/supervisor/supervisord.conf): a note, and
// it is not checked.
func (s *Spec[S]) confDoctor(flag string, shared *config.Config, sec *S, io IO) (int, string) {
	path, named := confdoctor.Locate(flag)
	if path == "" {
		if !named {
			fmt.Fprintf(io.Stderr, "%s: note: no supervisord.conf found (%s): not checked; name it with -supervisord-conf\n",
				s.Name, strings.Join(confdoctor.SearchPaths(), ", "))
		}
		return 0, ""
	}
	report := func(f confdoctor.Finding) { fmt.Fprintf(io.Stderr, "%s: supervisord.conf %s\n", s.Name, f) }
	conf, err := confdoctor.Load(path)
	if err != nil {
		for line := range strings.Lines(err.Error()) {
			fmt.Fprintf(io.Stderr, "%s: supervisord.conf %s\n", s.Name, strings.TrimSuffix(line, "\n"))
		}
		return 1, ""
	}
	runs := false
	for _, l := range conf.Listeners() {
		runs = runs || l.Binary == s.Name
	}
	if !runs {
		if !named {
			fmt.Fprintf(io.Stderr, "%s: note: supervisord.conf %s runs no %s listener: not checked; name the one that does with -supervisord-conf\n",
				s.Name, conf.Path, s.Name)
			return 0, ""
		}
		report(confdoctor.Finding{File: conf.Path, Message: fmt.Sprintf("no [eventlistener:x] runs %s (a command=.../%s): supervisord would not start it", s.Name, s.Name)})
	}
	var halt *confdoctor.Halt
	if s.File != nil {
		halt = s.File.Halt(shared)
	}
	findings := conf.Diagnose(confdoctor.FromConfig(shared, halt))
	if s.Check != nil {
		// The listener's own checks of names, against the processes the
		// conf defines: works without a running supervisord.
		if err := s.Check(sec, conf.ProcessInfos()); err != nil {
			for line := range strings.Lines(err.Error()) {
				findings = append(findings, confdoctor.Finding{File: conf.Path,
					Message: "against the processes it defines: " + strings.TrimSuffix(line, "\n")})
			}
		}
	}
	for _, f := range findings {
		report(f)
	}
	if !runs {
		return len(findings) + 1, ""
	}
	if len(findings) > 0 {
		return len(findings), ""
	}
	return 0, "; supervisord.conf " + conf.Path + ": no findings"
}
