package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/procmatch"
)

// DefaultSink is the sink a file without sinks gets: alerts go to the log.
var DefaultSink = Sink{Name: "log", Type: "log"}

// Route sends the alerts it matches to its sinks. Routes are tried in order;
// the first match wins unless it sets continue, in which case later routes
// are tried too. pkg/alert/route evaluates them.
type Route struct {
	Match    Match    `yaml:"match,omitempty"`
	Sinks    []string `yaml:"sinks"`
	Continue bool     `yaml:"continue,omitempty"`
}

// Match selects alerts. Every field that is set must match (a field matches
// when any of its values does); an empty Match matches every alert.
// Processes uses the process-pattern syntax of pkg/procmatch ("name",
// "group:name", "group:*", globs); the other patterns are path.Match globs.
type Match struct {
	Severity  Severities `yaml:"severity,omitempty"`  // e.g. [critical, error]
	Condition Patterns   `yaml:"condition,omitempty"` // e.g. [fatal, halt]
	Processes Patterns   `yaml:"processes,omitempty"` // procmatch patterns, e.g. ["strategies:*", "*:risk_*"]
	Listener  Patterns   `yaml:"listener,omitempty"`  // reporting listener, e.g. haltguard

	// Deprecated: write Processes. Kept so older files still load; -check
	// says what to write instead.
	Program Patterns `yaml:"program,omitempty"` // program name, e.g. risk_*: processes ["*:risk_*"]
	Group   Patterns `yaml:"group,omitempty"`   // group name, e.g. strategies: processes ["strategies:*"]
	Process Patterns `yaml:"process,omitempty"` // "group:program", e.g. strategies:*: the same in processes
}

// Selectors returns the process patterns (procmatch syntax) an alert must
// match, one list per field set: the alert matches when it matches some
// pattern of every list. No list means any process.
func (m *Match) Selectors() [][]string {
	var out [][]string
	for _, l := range [][]string{programPatterns(m.Program), groupPatterns(m.Group), m.Process, m.Processes} {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func (m *Match) validate(path string) []error {
	var errs []error
	for _, f := range []struct {
		name string
		p    Patterns
	}{{"condition", m.Condition}, {"program", m.Program}, {"group", m.Group}, {"process", m.Process}, {"listener", m.Listener}} {
		if err := f.p.validate(path + "." + f.name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := procmatch.CheckAll(path+".processes", m.Processes); err != nil {
		errs = append(errs, err)
	}
	for i, c := range m.Condition {
		if !isGlob(c) && !alert.Condition(c).Valid() {
			errs = append(errs, FieldErrorf(fmt.Sprintf("%s.condition[%d]", path, i), "unknown condition %q (known: %v)", c, alert.Conditions))
		}
	}
	return errs
}

// deprecated says what to write instead of program, group and process, or
// "" when none is set. The fields must all match, so program and group
// combine into one "group:program" pattern each.
func (m *Match) deprecated(path string) string {
	used := setFields(oldField{"program", m.Program}, oldField{"group", m.Group}, oldField{"process", m.Process})
	var want []string
	switch {
	case len(used) == 0:
		return ""
	case len(m.Processes) > 0 || (len(m.Process) > 0 && len(used) > 1):
		// Several lists that must all match do not fold into one list.
		return deprecation(path, used, nil)
	case len(m.Process) > 0:
		want = m.Process
	default:
		for _, g := range orStar(m.Group) {
			for _, p := range orStar(m.Program) {
				want = append(want, g+":"+p)
			}
		}
	}
	return deprecation(path, used, want)
}

// oldField is a deprecated selector field and its patterns.
type oldField struct {
	name string
	p    Patterns
}

// setFields keeps the fields that have patterns.
func setFields(fs ...oldField) []oldField {
	var out []oldField
	for _, f := range fs {
		if len(f.p) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// deprecation words one warning: `path.program: [risk_*] is deprecated:
// write processes: ["*:risk_*"]`. No want asks to fold the fields into
// processes by hand.
func deprecation(path string, used []oldField, want []string) string {
	var b strings.Builder
	if len(used) == 1 {
		fmt.Fprintf(&b, "%s.%s: %v is deprecated", path, used[0].name, []string(used[0].p))
	} else {
		parts := make([]string, len(used))
		for i, f := range used {
			parts[i] = fmt.Sprintf("%s: %v", f.name, []string(f.p))
		}
		fmt.Fprintf(&b, "%s: %s are deprecated", path, strings.Join(parts, ", "))
	}
	if len(want) == 0 {
		b.WriteString(": write the selection as processes patterns (name, group:name, group:*)")
	} else {
		b.WriteString(": write processes: " + quoteList(want))
	}
	return b.String()
}

// programPatterns turns program-name globs into process patterns.
func programPatterns(ps Patterns) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = "*:" + p
	}
	return out
}

// groupPatterns turns group-name globs into process patterns.
func groupPatterns(ps Patterns) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p + ":*"
	}
	return out
}

func orStar(ps Patterns) []string {
	if len(ps) == 0 {
		return []string{"*"}
	}
	return ps
}

func quoteList(ps []string) string {
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = strconv.Quote(p)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func isGlob(s string) bool {
	for _, r := range s {
		if r == '*' || r == '?' || r == '[' || r == '\\' {
			return true
		}
	}
	return false
}
