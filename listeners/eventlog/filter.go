package main

import (
	"strings"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/procmatch"
)

// filter selects the events eventlog logs.
type filter struct {
	events    []string // names or prefixes; empty: all
	processes []string // patterns; empty: all
}

func newFilter(c Config) filter {
	f := filter{processes: c.Processes}
	for _, e := range c.Events {
		if e == "EVENT" { // supervisord's name for every event type
			return filter{processes: c.Processes}
		}
		f.events = append(f.events, e)
	}
	return f
}

// match reports whether ev passes both the event and the process filter.
func (f filter) match(ev *eventlistener.Event) bool {
	return f.matchEvent(ev.EventName) && f.matchProcess(ev)
}

// matchEvent: an exact name, or a prefix ending at an underscore
// ("PROCESS_STATE" matches PROCESS_STATE_EXITED, not PROCESS_STATEX).
func (f filter) matchEvent(name string) bool {
	if len(f.events) == 0 {
		return true
	}
	for _, e := range f.events {
		if name == e || (strings.HasPrefix(name, e) && name[len(e)] == '_') {
			return true
		}
	}
	return false
}

// matchProcess matches events about a process on "group:name" or name, and
// PROCESS_GROUP_* events on their group (see package procmatch). Other
// events pass.
func (f filter) matchProcess(ev *eventlistener.Event) bool {
	if len(f.processes) == 0 {
		return true
	}
	if ev.Group != nil {
		for _, p := range f.processes {
			if procmatch.MatchGroup(p, ev.Group.Group) {
				return true
			}
		}
		return false
	}
	full := ev.ProcessName()
	if full == "" {
		return true
	}
	group, name, _ := strings.Cut(full, ":")
	return procmatch.Any(f.processes, group, name)
}
