// Package confdoctor reads the supervisord.conf that runs superguard's
// listeners and finds the misconfigurations that silence a listener or
// slow the kill switch at 3 AM: a listener's stdout logged, an event buffer
// too small, an events= line missing what a listener needs, a listener
// priority below the programs it watches, names in superguard.yaml that
// supervisord.conf does not define, credentials not passed, strategies not
// started through the halt gate or running as root, a critical program
// that does not come back. Every binary's -check runs it (pkg/listener).
//
// Reading. Each file is parsed with github.com/ochinchina/go-ini, the INI
// reader of the Go supervisord's config package (the design card's
// dependency), one file at a time so that every finding names its file,
// and values are expanded with that package's StringExpression. Its Load,
// which merges the files, is not used: it drops read errors silently, its
// [include] glob is an unanchored regular expression (files = conf.d/*.conf
// also loads conf.d/trading.conf.example, which supervisord 4 never reads),
// and it numbers numprocs from 1 whatever numprocs_start says. Load follows
// supervisord 4 instead: [include] files= is a list of globs relative to
// the including file's directory, each file must exist and be readable
// (supervisord refuses to start otherwise), and process names are expanded
// from process_name with program_name, process_num, group_name,
// host_node_name, here and ENV_X.
package confdoctor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	ini "github.com/ochinchina/go-ini"
	"github.com/ochinchina/supervisord/config"

	"github.com/superguard/superguard/pkg/supervisor"
)

// Section is one [section] of a file of the configuration.
type Section struct {
	Name   string // e.g. "eventlistener:haltguard", "program:strat_a", "unix_http_server"
	File   string
	values map[string]string
}

// Has says whether key is set.
func (s *Section) Has(key string) bool {
	_, ok := s.values[key]
	return ok
}

// Raw is key's value as written ("" when unset).
func (s *Section) Raw(key string) string { return s.values[key] }

// Get is key's value with %(here)s and %(ENV_X)s expanded, or def.
func (s *Section) Get(key, def string) string {
	v, ok := s.values[key]
	if !ok {
		return def
	}
	if out, err := config.NewStringExpression("here", filepath.Dir(s.File)).Eval(v); err == nil {
		return strings.ReplaceAll(out, "%%", "%")
	}
	return v
}

// Int is key's value as an integer, or def when unset or not a number.
func (s *Section) Int(key string, def int) int {
	v, err := strconv.Atoi(strings.TrimSpace(s.Get(key, "")))
	if err != nil {
		return def
	}
	return v
}

// Kind is the part of the name before the colon ("program",
// "eventlistener", "group", or the whole name).
func (s *Section) Kind() string {
	k, _, _ := strings.Cut(s.Name, ":")
	return k
}

// Short is the part of the name after the colon ("" without one).
func (s *Section) Short() string {
	_, n, _ := strings.Cut(s.Name, ":")
	return n
}

// Env is the section's environment= as a map (values unquoted).
func (s *Section) Env() map[string]string {
	return parseEnv(s.Get("environment", ""))
}

// Conf is a supervisord.conf with the files its [include] names.
type Conf struct {
	Path     string
	Files    []string
	Sections []*Section

	procs    []Process // expanded once by Load
	problems []Finding // values supervisord could not expand
}

// Load reads the supervisord.conf at path and every file its [include]
// names, as supervisord 4 would. An error means supervisord would not
// start with it: the file or an included one is missing or unreadable.
func Load(path string) (*Conf, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c := &Conf{Path: abs}
	main, err := c.read(abs)
	if err != nil {
		return nil, err
	}
	defer c.expandProcesses()
	inc := c.section("include")
	if inc == nil {
		return c, nil
	}
	var errs []error
	for _, pattern := range strings.Fields(inc.Get("files", "")) {
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(filepath.Dir(abs), pattern)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s [include]: files=%s: %w", main, pattern, err))
			continue
		}
		sort.Strings(matches)
		for _, m := range matches {
			if slices.Contains(c.Files, m) {
				continue
			}
			if _, err := c.read(m); err != nil {
				errs = append(errs, fmt.Errorf("%s [include]: %w", main, err))
			}
		}
	}
	return c, errors.Join(errs...)
}

// read parses one file and appends its sections.
func (c *Conf) read(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return path, fmt.Errorf("cannot read %s: supervisord would not start: %w", path, err)
	}
	f := ini.NewIni()
	f.LoadBytes(b)
	var secs []*Section
	for _, s := range f.Sections() {
		sec := &Section{Name: s.Name, File: path, values: map[string]string{}}
		for _, k := range s.Keys() {
			sec.values[strings.ToLower(k.Name())] = k.ValueWithDefault("")
		}
		secs = append(secs, sec)
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i].Name < secs[j].Name })
	c.Files = append(c.Files, path)
	c.Sections = append(c.Sections, secs...)
	return path, nil
}

func (c *Conf) section(name string) *Section {
	for _, s := range c.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Process is one process supervisord would run.
type Process struct {
	Group, Name string
	Section     *Section // its [program:x] or [eventlistener:x]
	Command     string   // expanded
}

// FullName is "group:name".
func (p Process) FullName() string { return p.Group + ":" + p.Name }

// Processes are the processes the conf defines, programs and event
// listeners, as supervisord names them: a program not in a [group:g] is
// in the group of its own name; numprocs processes are numbered from
// numprocs_start and named by process_name.
func (c *Conf) Processes() []Process { return c.procs }

// expandProcesses computes Processes. process_name and command are
// expanded by the Go supervisord config package's StringExpression
// (%(program_name)s, %(process_num)02d, %(group_name)s,
// %(host_node_name)s, %(here)s, %(ENV_X)s); a value it cannot expand is
// one supervisord 4 refuses too, and a finding.
func (c *Conf) expandProcesses() {
	groupOf := map[string]string{}
	for _, s := range c.Sections {
		if s.Kind() != "group" {
			continue
		}
		for _, p := range strings.Split(s.Get("programs", ""), ",") {
			if p = strings.TrimSpace(p); p != "" {
				groupOf[p] = s.Short()
			}
		}
	}
	for _, s := range c.Sections {
		if s.Kind() != "program" && s.Kind() != "eventlistener" {
			continue
		}
		prog := s.Short()
		group := prog
		if g, ok := groupOf[prog]; ok && s.Kind() == "program" {
			group = g
		}
		n, start := s.Int("numprocs", 1), s.Int("numprocs_start", 0)
		failed := false
		for i := range max(n, 1) {
			se := config.NewStringExpression("program_name", prog, "group_name", group,
				"here", filepath.Dir(s.File), "process_num", strconv.Itoa(start+i), "numprocs", strconv.Itoa(n))
			eval := func(key, def string) string {
				v := s.values[key]
				if v == "" {
					return def
				}
				out, err := se.Eval(v)
				if err != nil {
					if !failed {
						c.problems = append(c.problems, Finding{File: s.File, Section: s.Name,
							Message: fmt.Sprintf("%s=%s cannot be expanded (%v): supervisord would refuse this conf", key, v, err)})
					}
					failed = true
					return v
				}
				return strings.ReplaceAll(out, "%%", "%")
			}
			c.procs = append(c.procs, Process{Group: group, Name: eval("process_name", prog), Section: s, Command: eval("command", "")})
		}
	}
}

// ProcessInfos are Processes as supervisord's API would list them (names
// only), for the listeners' checks of names.
func (c *Conf) ProcessInfos() []supervisor.ProcessInfo {
	var out []supervisor.ProcessInfo
	for _, p := range c.Processes() {
		out = append(out, supervisor.ProcessInfo{Group: p.Group, Name: p.Name})
	}
	return out
}

// parseEnv reads KEY="value",KEY2=value2 as supervisord does.
func parseEnv(s string) map[string]string {
	out := map[string]string{}
	for len(strings.TrimSpace(s)) > 0 {
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		key = strings.TrimSpace(key)
		rest = strings.TrimLeft(rest, " \t\n")
		var val string
		if strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, `'`) {
			q := rest[:1]
			end := strings.Index(rest[1:], q)
			if end < 0 {
				val, rest = rest[1:], ""
			} else {
				val, rest = rest[1:1+end], rest[2+end:]
			}
			_, rest, _ = strings.Cut(rest, ",")
		} else {
			val, rest, _ = strings.Cut(rest, ",")
		}
		out[key] = strings.TrimSpace(val)
		s = rest
	}
	return out
}
