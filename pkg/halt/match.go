package halt

import (
	"fmt"
	"path"
	"strings"

	"github.com/superguard/superguard/pkg/supervisor"
)

// Patterns selects supervisord processes. Each pattern is a glob in
// path.Match syntax:
//
//   - "group:name" (it contains a colon) matches a process's full name, so
//     "trading:*" selects every process of the group trading and
//     "risk:risk_*" some of the group risk;
//   - a bare word matches a group name or a program name, so "trading"
//     selects the whole group trading and "risk_manager" the program
//     risk_manager whatever its group.
type Patterns []string

// Validate reports the first malformed or empty pattern, naming the field
// (e.g. "targets[1]").
func (ps Patterns) Validate(field string) error {
	for i, p := range ps {
		if strings.TrimSpace(p) == "" {
			return fmt.Errorf("%s[%d]: empty pattern", field, i)
		}
		if strings.Count(p, ":") > 1 {
			return fmt.Errorf("%s[%d]: %q: want group:name, group or name", field, i, p)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%s[%d]: %q: %w", field, i, p, err)
		}
	}
	return nil
}

// Match reports whether any pattern selects the process.
func (ps Patterns) Match(p supervisor.ProcessInfo) bool {
	for _, pat := range ps {
		if matchOne(pat, p.Group, p.Name) {
			return true
		}
	}
	return false
}

// MatchName is Match for a full name "group:name" (or a bare "name").
func (ps Patterns) MatchName(full string) bool {
	group, name, ok := strings.Cut(full, ":")
	if !ok {
		group, name = "", full
	}
	return ps.Match(supervisor.ProcessInfo{Group: group, Name: name})
}

// Unmatched returns the patterns that match none of procs, in order: the
// patterns a configuration names but supervisord does not know.
func (ps Patterns) Unmatched(procs []supervisor.ProcessInfo) []string {
	var out []string
	for _, pat := range ps {
		found := false
		for _, p := range procs {
			if matchOne(pat, p.Group, p.Name) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, pat)
		}
	}
	return out
}

func matchOne(pat, group, name string) bool {
	if strings.Contains(pat, ":") {
		full := name
		if group != "" {
			full = group + ":" + name
		}
		ok, _ := path.Match(pat, full)
		return ok
	}
	if ok, _ := path.Match(pat, name); ok {
		return true
	}
	ok, _ := path.Match(pat, group)
	return group != "" && ok
}
