package config

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/superguard/superguard/pkg/alert"
)

// Duration is a time.Duration written in YAML as a Go duration string
// ("90s", "5m", "1h30m"). A bare number other than 0 is rejected: "300"
// would silently mean 300ns.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns the Go duration string.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 5m", n.Line)
	}
	if n.Value == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: duration %q: want a number with a unit, such as 90s, 5m or 1h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Patterns is a list of shell glob patterns (path.Match syntax: *, ?, [a-z]).
// YAML accepts one pattern or a list.
type Patterns []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *Patterns) UnmarshalYAML(n *yaml.Node) error {
	vals, err := scalars(n)
	if err != nil {
		return err
	}
	*p = vals
	return nil
}

// Match reports whether s matches any pattern. An empty list matches
// nothing; callers treat it as "no restriction" before calling.
func (p Patterns) Match(s string) bool {
	for _, pat := range p {
		if ok, _ := path.Match(pat, s); ok {
			return true
		}
	}
	return false
}

// validate reports the first malformed pattern.
func (p Patterns) validate(field string) error {
	for i, pat := range p {
		if _, err := path.Match(pat, ""); err != nil {
			return FieldErrorf(fmt.Sprintf("%s[%d]", field, i), "bad glob pattern %q", pat)
		}
	}
	return nil
}

// Severities is a set of alert severities; YAML accepts one name or a list.
type Severities []alert.Severity

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Severities) UnmarshalYAML(n *yaml.Node) error {
	vals, err := scalars(n)
	if err != nil {
		return err
	}
	out := make(Severities, 0, len(vals))
	for _, v := range vals {
		sev, err := alert.ParseSeverity(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		out = append(out, sev)
	}
	*s = out
	return nil
}

// Has reports whether sev is in the set.
func (s Severities) Has(sev alert.Severity) bool {
	for _, x := range s {
		if x == sev {
			return true
		}
	}
	return false
}

// Weekdays is a set of days. YAML accepts one item or a list; an item is a
// day name ("mon", "monday") or a range ("mon-fri", "fri-mon" wraps).
type Weekdays []time.Weekday

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func parseDay(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) >= 3 {
		if d, ok := dayNames[s[:3]]; ok && strings.HasPrefix(strings.ToLower(d.String()), s) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("day %q: want mon, tue, wed, thu, fri, sat or sun", s)
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (w *Weekdays) UnmarshalYAML(n *yaml.Node) error {
	vals, err := scalars(n)
	if err != nil {
		return err
	}
	var out Weekdays
	for _, v := range vals {
		from, to, isRange := strings.Cut(v, "-")
		a, err := parseDay(from)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b := a
		if isRange {
			if b, err = parseDay(to); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == b {
				break
			}
		}
	}
	*w = out
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (w Weekdays) MarshalYAML() (any, error) {
	out := make([]string, len(w))
	for i, d := range w {
		out[i] = strings.ToLower(d.String()[:3])
	}
	return out, nil
}

// Has reports whether d is in the set; an empty set has every day.
func (w Weekdays) Has(d time.Weekday) bool {
	if len(w) == 0 {
		return true
	}
	for _, x := range w {
		if x == d {
			return true
		}
	}
	return false
}

// TimeOfDay is a wall-clock time "HH:MM", from 00:00 to 24:00, stored as
// minutes after midnight.
type TimeOfDay int

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *TimeOfDay) UnmarshalYAML(n *yaml.Node) error {
	h, m, ok := strings.Cut(n.Value, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if n.Kind != yaml.ScalarNode || !ok || err1 != nil || err2 != nil || len(m) != 2 ||
		hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return fmt.Errorf("line %d: time of day %q: want HH:MM between 00:00 and 24:00", n.Line, n.Value)
	}
	*t = TimeOfDay(hh*60 + mm)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (t TimeOfDay) MarshalYAML() (any, error) { return t.String(), nil }

// String returns "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// scalars accepts a scalar or a sequence of scalars.
func scalars(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: want a string", c.Line)
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}
