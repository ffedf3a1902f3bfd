package config

import (
	"fmt"

	"github.com/superguard/superguard/pkg/alert"
)

// Route sends the alerts it matches to its sinks. Routes are tried in order;
// the first match wins unless it sets continue, in which case later routes
// are tried too.
type Route struct {
	Match    Match    `yaml:"match,omitempty"`
	Sinks    []string `yaml:"sinks"`
	Continue bool     `yaml:"continue,omitempty"`
}

// Match selects alerts. Every field that is set must match (a field matches
// when any of its values does); an empty Match matches every alert. Globs
// use path.Match syntax.
type Match struct {
	Severity  Severities `yaml:"severity,omitempty"`  // e.g. [critical, error]
	Condition Patterns   `yaml:"condition,omitempty"` // e.g. [fatal, halt]
	Program   Patterns   `yaml:"program,omitempty"`   // program name, e.g. risk_*
	Group     Patterns   `yaml:"group,omitempty"`     // group name, e.g. strategies
	Process   Patterns   `yaml:"process,omitempty"`   // "group:program" as supervisord names it, e.g. strategies:*
	Listener  Patterns   `yaml:"listener,omitempty"`  // reporting listener, e.g. haltguard
}

// Matches reports whether a matches m.
func (m *Match) Matches(a *alert.Alert) bool {
	group := a.Group
	if group == "" {
		group = a.Program // supervisord's group of an ungrouped program is itself
	}
	return (len(m.Severity) == 0 || m.Severity.Has(a.Severity)) &&
		(len(m.Condition) == 0 || m.Condition.Match(string(a.Condition))) &&
		(len(m.Program) == 0 || m.Program.Match(a.Program)) &&
		(len(m.Group) == 0 || m.Group.Match(group)) &&
		(len(m.Process) == 0 || m.Process.Match(a.Process())) &&
		(len(m.Listener) == 0 || m.Listener.Match(a.Listener))
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
	for i, c := range m.Condition {
		if !isGlob(c) && !alert.Condition(c).Valid() {
			errs = append(errs, fieldErr(fmt.Sprintf("%s.condition[%d]", path, i), "unknown condition %q (known: %v)", c, alert.Conditions))
		}
	}
	return errs
}

func isGlob(s string) bool {
	for _, r := range s {
		if r == '*' || r == '?' || r == '[' || r == '\\' {
			return true
		}
	}
	return false
}

// Route returns the names of the sinks alert a goes to, in route order,
// without duplicates. With no routes configured the defaults apply:
// critical to every pagerduty and slack sink, error and warning to slack,
// info to log sinks, every severity to alertmanager sinks; a severity left
// with no sink that way goes to the log sinks. The result may be empty (no
// sink fits): the pipeline then logs the alert itself.
func (c *Config) Route(a *alert.Alert) []string {
	var out []string
	seen := map[string]bool{}
	add := func(names ...string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	if len(c.Routes) > 0 {
		for i := range c.Routes {
			r := &c.Routes[i]
			if r.Match.Matches(a) {
				add(r.Sinks...)
				if !r.Continue {
					break
				}
			}
		}
		return out
	}
	want := map[alert.Severity][]string{
		alert.Critical: {SinkPagerDuty, SinkSlack},
		alert.Error:    {SinkSlack},
		alert.Warning:  {SinkSlack},
		alert.Info:     {SinkLog},
	}[a.Severity]
	for _, typ := range want {
		add(c.sinksOfType(typ)...)
	}
	if len(out) == 0 {
		add(c.sinksOfType(SinkLog)...)
	}
	add(c.sinksOfType(SinkAlertmanager)...)
	return out
}

func (c *Config) sinksOfType(typ string) []string {
	var out []string
	for _, s := range c.Sinks {
		if s.Type == typ {
			out = append(out, s.Name)
		}
	}
	return out
}
