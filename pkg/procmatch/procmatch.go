// Package procmatch selects supervisord processes by pattern. It is the one
// process selector of superguard: haltguard's critical and targets,
// crashpager's include, exclude and listeners, eventlog's -process and
// every future per-program setting use it.
//
// Pattern syntax:
//
//   - A bare word ("trading", "risk_*") selects a program of that name in
//     any group OR every process of a group of that name: "trading" is the
//     whole group trading and "risk_manager" the program risk_manager
//     whatever its group.
//   - "group:name" selects by the full name supervisord's XML-RPC API uses
//     ("strategies:engine", "trad*:mm_?"). An ungrouped program's group is
//     its own name, so "risk_manager:risk_manager" selects it too.
//   - "*:name" selects a program by its name only, in any group, never a
//     group of that name.
//   - "group:*" selects a whole group, never a program of that name.
//   - Both parts are shell globs (path.Match: *, ?, [...], \ escapes); '*'
//     does not cross a '/', which supervisord names never contain.
//   - A pattern is never empty (nor only spaces) and has at most one colon.
//
// Before this syntax, crashpager's include/exclude/listeners and eventlog's
// -process read a bare word as a program name only; Widened finds the bare
// patterns that now also select a group, so -check can say what to write
// instead ("*:name").
//
// A Set combines include and exclude patterns: a process is selected when
// it matches some include pattern (no include pattern selects every
// process) and no exclude pattern.
package procmatch

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Check reports whether p is a valid pattern: not blank, at most one colon,
// valid glob syntax.
func Check(p string) error {
	if strings.TrimSpace(p) == "" {
		return errors.New("empty pattern")
	}
	if strings.Count(p, ":") > 1 {
		return fmt.Errorf("pattern %q: want name or group:name", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("pattern %q: %w", p, err)
	}
	return nil
}

// CheckAll checks every pattern of one config field; an error names the
// field and the index ("include[2]: empty pattern").
func CheckAll(field string, patterns []string) error {
	for i, p := range patterns {
		if err := Check(p); err != nil {
			return fmt.Errorf("%s[%d]: %w", field, i, err)
		}
	}
	return nil
}

// Match reports whether pattern p selects the process name in group. An
// invalid pattern (see Check) matches nothing.
func Match(p, group, name string) bool {
	if strings.Contains(p, ":") {
		full := name
		if group != "" {
			full = group + ":" + name
		}
		ok, _ := path.Match(p, full)
		return ok
	}
	if ok, _ := path.Match(p, name); ok {
		return true
	}
	return group != "" && byGroup(p, group)
}

// byGroup reports whether bare pattern p selects group.
func byGroup(p, group string) bool {
	ok, _ := path.Match(p, group)
	return ok
}

// MatchGroup reports whether pattern p selects the group as a whole (for
// events such as PROCESS_GROUP_ADDED that name no process): the part
// before the colon of "group:name", or a pattern without a colon, is
// matched against the group name.
func MatchGroup(p, group string) bool {
	g, _, _ := strings.Cut(p, ":")
	ok, _ := path.Match(g, group)
	return ok
}

// Any reports whether some pattern selects the process name in group.
func Any(patterns []string, group, name string) bool {
	for _, p := range patterns {
		if Match(p, group, name) {
			return true
		}
	}
	return false
}

// Set selects processes by include and exclude patterns. The zero Set
// selects every process.
type Set struct {
	include, exclude []string
	none             bool
}

// New checks every pattern and returns the Set; errors name the field
// ("include[1]: ...", "exclude[0]: ...").
func New(include, exclude []string) (Set, error) {
	if err := CheckAll("include", include); err != nil {
		return Set{}, err
	}
	if err := CheckAll("exclude", exclude); err != nil {
		return Set{}, err
	}
	return Set{include: include, exclude: exclude}, nil
}

// None returns a Set that selects no process.
func None() Set { return Set{none: true} }

// Match reports whether the process name in group is selected.
func (s Set) Match(group, name string) bool {
	if s.none || (len(s.include) > 0 && !Any(s.include, group, name)) {
		return false
	}
	return !Any(s.exclude, group, name)
}
