// Package route decides, next to the alert pipeline, where an alert goes
// and whether it is held back: the routes of the shared config, quiet
// hours and maintenance windows. pkg/config decodes and checks those
// sections; this package evaluates them. Processes are selected with the
// one pattern syntax of pkg/procmatch.
package route

import (
	"slices"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/notify"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/procmatch"
)

// Sinks returns the names of the sinks alert a goes to, in route order,
// without duplicates. With no routes configured each sink type's defaults
// apply (notify.Type): critical to every pagerduty and slack sink, error
// and warning to slack, info to log sinks; a severity left with no sink
// that way goes to the fallback (log) sinks; alertmanager sinks get every
// alert. The result may be empty (no sink fits): the pipeline then logs the
// alert itself.
func Sinks(c *config.Config, a *alert.Alert) []string {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	if len(c.Routes) > 0 {
		for i := range c.Routes {
			r := &c.Routes[i]
			if Matches(&r.Match, a) {
				add(r.Sinks...)
				if !r.Continue {
					break
				}
			}
		}
		return out
	}
	ofTypes := func(keep func(notify.Type) bool) {
		for _, t := range notify.Types() {
			if keep(t) {
				add(sinksOfType(c, t.Name)...)
			}
		}
	}
	ofTypes(func(t notify.Type) bool { return slices.Contains(t.Severities, a.Severity) })
	if len(out) == 0 {
		ofTypes(func(t notify.Type) bool { return t.Fallback })
	}
	ofTypes(func(t notify.Type) bool { return t.Always })
	return out
}

func sinksOfType(c *config.Config, typ string) []string {
	var out []string
	for _, s := range c.Sinks {
		if s.Type == typ {
			out = append(out, s.Name)
		}
	}
	return out
}

// Matches reports whether a matches m: every field that is set matches.
func Matches(m *config.Match, a *alert.Alert) bool {
	if (len(m.Severity) > 0 && !m.Severity.Has(a.Severity)) ||
		(len(m.Condition) > 0 && !m.Condition.Match(string(a.Condition))) ||
		(len(m.Listener) > 0 && !m.Listener.Match(a.Listener)) {
		return false
	}
	for _, sel := range m.Selectors() {
		if !selects(sel, a) {
			return false
		}
	}
	return true
}

// selects reports whether some process pattern selects a's process.
func selects(patterns []string, a *alert.Alert) bool {
	group := a.Group
	if group == "" {
		group = a.Program // supervisord's group of an ungrouped program is itself
	}
	return procmatch.Any(patterns, group, a.Program)
}
