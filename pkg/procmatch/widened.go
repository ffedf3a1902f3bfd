package procmatch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/superguard/superguard/pkg/supervisor"
)

// Widened is a bare pattern that selects processes through their group
// which a program-name-only reading (crashpager's and eventlog's before the
// one syntax) did not select.
type Widened struct {
	Index     int      // the pattern's index in its field
	Pattern   string   // e.g. "trading"
	Groups    []string // the groups it now selects, sorted
	Processes []string // the processes it now also selects ("group:name"), sorted
}

// Note says what the pattern now means and what to write to keep the old
// meaning, e.g. `listeners.crashpager.include[0]: "trading" now also
// selects every process of group trading (trading:a, trading:b); write
// "*:trading" to select only the program`. field is the pattern's path in
// the config file.
func (w Widened) Note(field string) string {
	return fmt.Sprintf("%s[%d]: %q now also selects every process of group %s (%s); write %q to select only the program",
		field, w.Index, w.Pattern, strings.Join(w.Groups, ", "), strings.Join(w.Processes, ", "), "*:"+w.Pattern)
}

// Widen returns, in order, the bare patterns that select some of procs
// through their group but not by their program name: the patterns whose
// meaning changed for a config written when a bare word was a program name
// only.
func Widen(patterns []string, procs []supervisor.ProcessInfo) []Widened {
	var out []Widened
	for i, p := range patterns {
		if strings.Contains(p, ":") {
			continue
		}
		w := Widened{Index: i, Pattern: p}
		for _, proc := range procs {
			if Match(p, "", proc.Name) || proc.Group == "" || !byGroup(p, proc.Group) {
				continue
			}
			w.Processes = append(w.Processes, proc.FullName())
			if !slices.Contains(w.Groups, proc.Group) {
				w.Groups = append(w.Groups, proc.Group)
			}
		}
		if len(w.Processes) > 0 {
			slices.Sort(w.Groups)
			slices.Sort(w.Processes)
			out = append(out, w)
		}
	}
	return out
}

// BareNote is the note for a bare pattern when the process list is
// unknown (supervisord unreachable): it may now select a group too.
func BareNote(field string, index int, pattern string) string {
	return fmt.Sprintf("%s[%d]: %q also selects every process of a group named %s; write %q to select only the program",
		field, index, pattern, pattern, "*:"+pattern)
}

// Unmatched returns the patterns that select none of procs, in order: the
// patterns a configuration names but supervisord does not know.
func Unmatched(patterns []string, procs []supervisor.ProcessInfo) []string {
	var out []string
	for _, p := range patterns {
		if !slices.ContainsFunc(procs, func(proc supervisor.ProcessInfo) bool { return Match(p, proc.Group, proc.Name) }) {
			out = append(out, p)
		}
	}
	return out
}

// UnmatchedErrors is -check's error for each pattern of field that
// selects no process of procs: a typo, or a program renamed. A pattern
// that selects every process ("*", "*:*") is fine with none yet.
func UnmatchedErrors(field string, patterns []string, procs []supervisor.ProcessInfo) []error {
	var errs []error
	for _, p := range Unmatched(patterns, procs) {
		if p != "*" && p != "*:*" {
			errs = append(errs, fmt.Errorf("%s: %q matches no program or group in supervisord", field, p))
		}
	}
	return errs
}
