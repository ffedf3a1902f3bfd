package main

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// matcher selects programs by include and exclude patterns. A pattern with a
// colon ("group:name", "group:*", "trad*:mm_?") is matched against the full
// "group:name"; a pattern without one ("risk_manager", "feed_*") against the
// process name alone. Patterns use shell glob syntax (path.Match). A program
// is selected when it matches some include pattern (an empty include list
// selects everything) and no exclude pattern.
type matcher struct {
	include, exclude []string
}

// newMatcher checks every pattern's syntax; errors name the config field
// ("include[2]: ...", "exclude[0]: ...").
func newMatcher(include, exclude []string) (matcher, error) {
	if err := checkPatterns("include", include); err != nil {
		return matcher{}, err
	}
	if err := checkPatterns("exclude", exclude); err != nil {
		return matcher{}, err
	}
	return matcher{include: include, exclude: exclude}, nil
}

// checkPatterns checks the syntax of the patterns of one config field.
func checkPatterns(field string, patterns []string) error {
	for i, p := range patterns {
		if err := checkPattern(p); err != nil {
			return fmt.Errorf("%s[%d]: %w", field, i, err)
		}
	}
	return nil
}

func checkPattern(p string) error {
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

// Match reports whether the process named name in group is selected.
func (m matcher) Match(group, name string) bool {
	if len(m.include) > 0 && !matchAny(m.include, group, name) {
		return false
	}
	return !matchAny(m.exclude, group, name)
}

func matchAny(patterns []string, group, name string) bool {
	for _, p := range patterns {
		if matchOne(p, group, name) {
			return true
		}
	}
	return false
}

func matchOne(p, group, name string) bool {
	target := name
	if strings.Contains(p, ":") {
		target = group + ":" + name
	}
	ok, _ := path.Match(p, target) // syntax checked in newMatcher
	return ok
}
