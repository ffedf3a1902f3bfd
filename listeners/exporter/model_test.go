package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
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
	key, _ := m.event(ev("STARTING", 0, false))
	saved, _ := m.counters(key)
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

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "": false, "0.0.0.0": false, "10.0.0.5": false, "::": false} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestCountersWrittenOnceTheStoreIsBack: a store that cannot be opened
// keeps the counters in memory; the next refresh writes them once it can.
func TestCountersWrittenOnceTheStoreIsBack(t *testing.T) {
	// A file where the store's directory should be: it cannot be created.
	dir := filepath.Join(t.TempDir(), "blocked")
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e := &exporter{log: zerolog.Nop(), store: durable.NewStore(filepath.Join(dir, "state.db")), bg: context.Background()}
	e.col = &collector{m: newModel(nil, time.Now), now: time.Now}
	key, _ := e.col.m.event(ev("RUNNING", 7, false))
	e.save(context.Background(), key)
	if !e.dirty[key] {
		t.Fatal("a counter the store did not take is not marked to write again")
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The store is tried again at most every durable.ReopenEvery.
	testsupport.Eventually(t, 4*durable.ReopenEvery, "the counters written", func() (bool, string) {
		e.saveDirty(context.Background())
		e.saveMu.Lock()
		defer e.saveMu.Unlock()
		return len(e.dirty) == 0, fmt.Sprint("dirty: ", e.dirty)
	})
	st, err := e.store.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer e.store.Close()
	saved, err := st.Counters(context.Background())
	if err != nil || len(saved[key].RunPIDs) != 1 {
		t.Errorf("stored counters = %+v, %v", saved, err)
	}
}

// TestProcessesSelected: with processes: [trading], events and
// reconciliations of other programs are not exported.
func TestProcessesSelected(t *testing.T) {
	e := &exporter{log: zerolog.Nop(), sel: []string{"trading"}, store: durable.NewStore(filepath.Join(t.TempDir(), "state.db"))}
	defer e.store.Close()
	e.col = &collector{m: newModel(nil, time.Now), now: time.Now}
	ctx := context.Background()
	_ = e.HandleEvent(ctx, &eventlistener.Event{State: ev("RUNNING", 7, false)})
	_ = e.HandleEvent(ctx, &eventlistener.Event{State: &eventlistener.ProcessState{Group: "infra", Process: "feed", ToState: "RUNNING", PID: 8}})
	_ = e.Reconcile(ctx, eventlistener.Reconciliation{Reason: eventlistener.ReasonGap, Processes: []supervisor.ProcessInfo{
		info(7, supervisor.ProcessRunning), {Group: "infra", Name: "feed", PID: 9, State: supervisor.ProcessRunning}}})
	var got []string
	for _, p := range e.col.m.snapshot() {
		got = append(got, p.group+":"+p.name)
	}
	if len(got) != 1 || got[0] != "trading:mm" {
		t.Errorf("exported %v, want only trading:mm", got)
	}
}

// TestScrapesDuringEvents: scrapes through the /metrics handler while
// events and reconciliations change the model (run with -race).
func TestScrapesDuringEvents(t *testing.T) {
	e := &exporter{log: zerolog.Nop(), store: durable.NewStore(filepath.Join(t.TempDir(), "state.db"))}
	defer e.store.Close()
	e.col = &collector{m: newModel(nil, time.Now), now: time.Now}
	srv := newServer(e.col, &listener.Env{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			w := httptest.NewRecorder()
			srv.Handler.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Errorf("scrape: %d", w.Code)
				return
			}
		}
	}()
	ctx := context.Background()
	for i := range 200 {
		st := &eventlistener.ProcessState{Group: "g", Process: fmt.Sprintf("p%d", i%20), ToState: "RUNNING", PID: 1000 + i}
		_ = e.HandleEvent(ctx, &eventlistener.Event{State: st})
		if i%50 == 0 {
			_ = e.Reconcile(ctx, eventlistener.Reconciliation{Reason: eventlistener.ReasonGap})
		}
	}
	<-done
}

// TestLabelsOfGoneProcessesDropped: the label pairs a scrape keeps per
// process do not outlive the process.
func TestLabelsOfGoneProcessesDropped(t *testing.T) {
	c := &collector{m: newModel(nil, time.Now), now: time.Now}
	for i := range 5 {
		c.m.event(&eventlistener.ProcessState{Group: "g", Process: fmt.Sprintf("p%d", i), ToState: "RUNNING", PID: 10 + i})
	}
	c.processFamilies()
	c.m.reconcile([]supervisor.ProcessInfo{{Group: "g", Name: "p0", PID: 10, State: supervisor.ProcessRunning}}, atStart)
	c.processFamilies()
	if n := len(c.labels.m); n != 1 {
		t.Errorf("%d processes' labels kept after 4 of 5 went away, want 1", n)
	}
}
