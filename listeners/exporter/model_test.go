package main

import (
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

func ev(to string, pid int, expected bool) *eventlistener.ProcessState {
	return &eventlistener.ProcessState{Group: "trading", Process: "mm", ToState: to, PID: pid, Expected: expected}
}

// run is one run of mm: STARTING, RUNNING with pid, then EXITED
// (unexpectedly) unless last.
func run(m *model, pid int, exit bool) {
	m.event(ev("STARTING", 0, false))
	m.event(ev("RUNNING", pid, false))
	if exit {
		m.event(ev("EXITED", pid, false))
	}
}

func counters(t *testing.T, m *model) state.ProcessCounters {
	t.Helper()
	for _, p := range m.snapshot() {
		if p.group == "trading" && p.name == "mm" {
			return p.c
		}
	}
	t.Fatal("trading:mm not in the model")
	return state.ProcessCounters{}
}

func info(pid int, st supervisor.ProcessState) supervisor.ProcessInfo {
	return supervisor.ProcessInfo{Group: "trading", Name: "mm", PID: pid, State: st, Start: time.Unix(1000, 0)}
}

func TestCrashLoopCounts(t *testing.T) {
	m := newModel(nil, time.Now)
	for pid := 100; pid < 120; pid++ {
		run(m, pid, true)
	}
	run(m, 120, false)
	c := counters(t, m)
	if c.Restarts != 20 || c.Exits["unexpected"] != 20 || c.Exits["expected"] != 0 {
		t.Errorf("after 20 exits and 21 runs: %+v, want 20 restarts and 20 unexpected exits", c)
	}
	// Every event re-sent (a restart of the exporter before its acks)
	// counts nothing again.
	for pid := 100; pid < 121; pid++ {
		m.event(ev("RUNNING", pid, false))
	}
	if c2 := counters(t, m); c2.Restarts != 20 || c2.Exits["unexpected"] != 20 {
		t.Errorf("re-sent events counted again: %+v", c2)
	}
}

func TestPersistedCountersContinue(t *testing.T) {
	m := newModel(nil, time.Now)
	run(m, 1, true)
	run(m, 2, true)
	_, saved, _ := m.event(ev("STARTING", 0, false))
	m2 := newModel(map[string]state.ProcessCounters{"trading:mm": saved}, time.Now)
	m2.event(ev("RUNNING", 3, false))
	if c := counters(t, m2); c.Restarts != 2 || c.Exits["unexpected"] != 2 {
		t.Errorf("after a restart of the exporter: %+v, want 2 restarts, 2 exits", c)
	}
}

func TestReconcileAheadOfQueuedEvents(t *testing.T) {
	m := newModel(nil, time.Now)
	run(m, 10, true)
	// Events of runs 11 and 12 are still queued when a reconciliation
	// (at a restart of the exporter) already sees 12 RUNNING.
	m.reconcile([]supervisor.ProcessInfo{info(12, supervisor.ProcessRunning)}, afterGap)
	m.event(ev("STARTING", 0, false))
	m.event(ev("RUNNING", 11, false))
	m.event(ev("EXITED", 11, false))
	m.event(ev("STARTING", 0, false))
	m.event(ev("RUNNING", 12, false))
	c := counters(t, m)
	if c.Restarts != 2 || c.Exits["unexpected"]+c.Exits["unknown"] != 2 {
		t.Errorf("counters = %+v, want 2 restarts (11, 12) and 2 exits (10, 11)", c)
	}
}

func TestReconcileAfterDroppedEvents(t *testing.T) {
	m := newModel(nil, time.Now)
	run(m, 10, false)
	// The exit of 10 and the start of 11 were dropped.
	changed := m.reconcile([]supervisor.ProcessInfo{info(11, supervisor.ProcessRunning)}, afterGap)
	c := counters(t, m)
	if c.Restarts != 1 || c.Exits["unknown"] != 1 || len(changed) != 1 {
		t.Errorf("counters = %+v (changed %d), want the missed restart and exit", c, len(changed))
	}
	if m.reconcile([]supervisor.ProcessInfo{info(11, supervisor.ProcessRunning)}, afterGap); counters(t, m).Restarts != 1 {
		t.Error("a second reconciliation of the same state counted again")
	}
}

func TestFirstRunIsNoRestart(t *testing.T) {
	m := newModel(nil, time.Now)
	m.reconcile([]supervisor.ProcessInfo{info(5, supervisor.ProcessRunning)}, atStart)
	if c := counters(t, m); c.Restarts != 0 || len(c.Exits) != 0 {
		t.Errorf("a process found running at the exporter's first start: %+v, want nothing counted", c)
	}
}

func TestFatalAndBackoffOnce(t *testing.T) {
	m := newModel(nil, time.Now)
	for range 3 {
		m.event(ev("STARTING", 0, false))
		m.event(ev("BACKOFF", 0, false))
	}
	m.event(ev("FATAL", 0, false))
	m.event(ev("FATAL", 0, false)) // re-sent
	m.reconcile([]supervisor.ProcessInfo{info(0, supervisor.ProcessFatal)}, afterGap)
	if c := counters(t, m); c.Backoffs != 3 || c.Fatals != 1 {
		t.Errorf("counters = %+v, want 3 backoffs and 1 fatal", c)
	}
}

func TestGoneProcessesDropped(t *testing.T) {
	m := newModel(nil, time.Now)
	run(m, 1, false)
	m.reconcile(nil, atStart)
	if len(m.snapshot()) != 0 {
		t.Error("a process supervisord no longer lists is still exported")
	}
}

// TestStartCountsNothingQueued: at a restart of the exporter the runs it
// missed are still queued in supervisord: the start reconciliation counts
// nothing, the queued events count each once, with its label.
func TestStartCountsNothingQueued(t *testing.T) {
	m := newModel(nil, time.Now)
	run(m, 10, true)
	m.reconcile([]supervisor.ProcessInfo{info(12, supervisor.ProcessRunning)}, atStart)
	if c := counters(t, m); c.Restarts != 0 {
		t.Fatalf("the start reconciliation counted %d restarts", c.Restarts)
	}
	run(m, 11, true)
	run(m, 12, false)
	if c := counters(t, m); c.Restarts != 2 || c.Exits["unexpected"] != 2 || c.Exits["unknown"] != 0 {
		t.Errorf("counters = %+v, want 2 restarts, 2 unexpected exits", c)
	}
}
