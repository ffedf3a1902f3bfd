package main

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// proc is what the exporter knows of one process: its persisted counters
// and marks, and the gauges read from events and supervisord.
type proc struct {
	name, group string
	c           state.ProcessCounters
	state       string    // current state, from events and reconciliations
	start       time.Time // when it last started (zero: never, or unknown)
}

// model is the exporter's table of processes. Events and reconciliations
// change it under mu; a scrape reads a copy.
//
// Counting rules. A reconciliation reads supervisord ahead of the events
// still queued for the exporter, and an event may be re-sent after a
// restart of the exporter, so every count is keyed so that it is made
// once:
//   - a restart is a pid seen RUNNING (by an event or a reconciliation)
//     that was not counted yet, once the process has run before (its first
//     run is a start, not a restart);
//   - an exit is an EXITED event of a pid whose exit was not counted yet;
//     a reconciliation that finds a new pid counts the exit of the
//     previous one as "unknown" (expected or not is in the dropped event);
//   - a FATAL or a BACKOFF is counted when the process was not already in
//     that state.
//
// Events that supervisord dropped are reconciled, but two restarts of one
// process inside one gap show as one: the pids in between were never seen;
// and since the reconciliation reads supervisord ahead of the events still
// queued behind the gap, an exit it counts is "unknown" even when its
// event comes later.
type model struct {
	mu    sync.Mutex
	procs map[string]*proc // by "group:name"
	now   func() time.Time
}

func newModel(saved map[string]state.ProcessCounters, now func() time.Time) *model {
	m := &model{procs: map[string]*proc{}, now: now}
	for key, c := range saved {
		group, name := splitKey(key)
		m.procs[key] = &proc{name: name, group: group, c: c, state: c.LastState}
	}
	return m
}

func splitKey(key string) (group, name string) {
	for i := range len(key) {
		if key[i] == ':' {
			return key[:i], key[i+1:]
		}
	}
	return key, key
}

func (m *model) get(group, name string) *proc {
	key := group + ":" + name
	p := m.procs[key]
	if p == nil {
		p = &proc{name: name, group: group}
		m.procs[key] = p
	}
	return p
}

// push appends pid to list, keeping the newest state.MaxPIDs.
func push(list []int, pid int) []int {
	list = append(list, pid)
	if len(list) > state.MaxPIDs {
		list = slices.Clone(list[len(list)-state.MaxPIDs:])
	}
	return list
}

// running counts pid as RUNNING (a restart if the process ran before).
func (p *proc) running(pid int) {
	if pid == 0 || slices.Contains(p.c.RunPIDs, pid) {
		return
	}
	if len(p.c.RunPIDs) > 0 {
		p.c.Restarts++
	}
	p.c.RunPIDs = push(p.c.RunPIDs, pid)
}

// exited counts the exit of pid once.
func (p *proc) exited(pid int, kind string) {
	if pid != 0 && slices.Contains(p.c.ExitPIDs, pid) {
		return
	}
	if p.c.Exits == nil {
		p.c.Exits = map[string]int64{}
	}
	p.c.Exits[kind]++
	if pid != 0 {
		p.c.ExitPIDs = push(p.c.ExitPIDs, pid)
	}
}

// entered counts a FATAL or a BACKOFF not already counted.
func (p *proc) entered(st string) {
	if p.c.LastState == st {
		return
	}
	switch st {
	case "FATAL":
		p.c.Fatals++
	case "BACKOFF":
		p.c.Backoffs++
	}
}

func clone(c state.ProcessCounters) state.ProcessCounters {
	c.Exits = maps.Clone(c.Exits)
	c.RunPIDs = slices.Clone(c.RunPIDs)
	c.ExitPIDs = slices.Clone(c.ExitPIDs)
	return c
}

// event applies a PROCESS_STATE event and returns the process's key and
// whether its counters changed (to persist before the event is
// acknowledged).
func (m *model) event(s *eventlistener.ProcessState) (key string, changed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.get(s.Group, s.Process)
	before := clone(p.c)
	switch s.ToState {
	case "STARTING":
		p.start = m.now()
	case "RUNNING":
		p.running(s.PID)
		if p.start.IsZero() {
			p.start = m.now()
		}
	case "EXITED":
		kind := "unexpected"
		if s.Expected {
			kind = "expected"
		}
		p.exited(s.PID, kind)
	case "FATAL", "BACKOFF":
		p.entered(s.ToState)
	}
	p.state = s.ToState
	p.c.LastState = s.ToState
	return s.Group + ":" + s.Process, !equalCounters(before, p.c)
}

// How a reconciliation applies supervisord's list.
type reconcileMode int

const (
	// refreshOnly: the periodic read; start times and exit statuses only.
	refreshOnly reconcileMode = iota
	// atStart: the exporter's start. Events that happened while it was
	// down are still queued in supervisord (a loss shows as a gap, kept
	// across restarts in its events-state file), so nothing is counted:
	// processes it never saw get their first run as a baseline, and
	// processes gone from supervisord are dropped.
	atStart
	// afterGap: supervisord dropped events; what they would have counted
	// is counted by the rules above.
	afterGap
)

// reconcile applies supervisord's list and returns the keys of the
// processes whose counters changed.
func (m *model) reconcile(list []supervisor.ProcessInfo, mode reconcileMode) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var changed []string
	listed := map[string]bool{}
	for _, info := range list {
		group := info.GroupName()
		key := group + ":" + info.Name
		listed[key] = true
		if mode == refreshOnly && m.procs[key] == nil {
			continue // an event or the next reconciliation adds it
		}
		p := m.get(group, info.Name)
		p.start = info.Start
		before := clone(p.c)
		if info.State == supervisor.ProcessExited {
			// The event has no exit status, and by the time it arrives an
			// autorestarted process runs again: only a read while the
			// process is EXITED has it.
			es := info.ExitStatus
			p.c.ExitStatus = &es
		}
		st := info.State.String()
		switch {
		case mode == atStart:
			if len(p.c.RunPIDs) == 0 && info.PID != 0 {
				p.running(info.PID) // its first run seen: a baseline, no restart
			}
			if p.state == "" {
				p.state = st
			}
		case mode == afterGap:
			if info.PID != 0 && !slices.Contains(p.c.RunPIDs, info.PID) && len(p.c.RunPIDs) > 0 {
				// A run the events did not show: the one before it ended.
				if prev := p.c.RunPIDs[len(p.c.RunPIDs)-1]; !slices.Contains(p.c.ExitPIDs, prev) && p.state != "STOPPED" {
					p.exited(prev, "unknown")
				}
			}
			p.running(info.PID)
			p.entered(st)
			p.c.LastState, p.state = st, st
		}
		if !equalCounters(before, p.c) {
			changed = append(changed, key)
		}
	}
	if mode != refreshOnly {
		for key := range m.procs {
			if !listed[key] {
				delete(m.procs, key)
			}
		}
	}
	return changed
}

// counters returns a copy of key's counters.
func (m *model) counters(key string) (state.ProcessCounters, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.procs[key]
	if p == nil {
		return state.ProcessCounters{}, false
	}
	return clone(p.c), true
}

// snapshot is a copy of every process, sorted by key, for a scrape.
func (m *model) snapshot() []proc {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]proc, 0, len(m.procs))
	for _, key := range slices.Sorted(maps.Keys(m.procs)) {
		p := *m.procs[key]
		p.c.Exits = maps.Clone(p.c.Exits)
		out = append(out, p)
	}
	return out
}

func equalCounters(a, b state.ProcessCounters) bool {
	return a.Restarts == b.Restarts && a.Fatals == b.Fatals && a.Backoffs == b.Backoffs &&
		a.LastState == b.LastState && maps.Equal(a.Exits, b.Exits) &&
		slices.Equal(a.RunPIDs, b.RunPIDs) && slices.Equal(a.ExitPIDs, b.ExitPIDs) &&
		(a.ExitStatus == nil) == (b.ExitStatus == nil) && (a.ExitStatus == nil || *a.ExitStatus == *b.ExitStatus)
}
