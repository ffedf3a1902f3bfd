package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/procstat"
	"github.com/superguard/superguard/pkg/proctable"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestGoneBeforeTheActionIsQuiet: the process exited, or was restarted by
// someone else, between the read and the action: no restart, no alert.
func TestGoneBeforeTheActionIsQuiet(t *testing.T) {
	for name, info := range map[string]supervisor.ProcessInfo{
		"restarted by someone": {Group: "trading", Name: "mm", PID: 43, State: supervisor.ProcessRunning},
		"exited":               {Group: "trading", Name: "mm", State: supervisor.ProcessExited},
	} {
		t.Run(name, func(t *testing.T) {
			e, sup, rec, st := newEngine(t, sections.MemLimit{Processes: []string{"*"}, Max: 1 << 20})
			sup.info = info
			w := over(e, 42, 2<<20)
			e.act(w, map[string]string{})
			if len(sup.calls) != 0 || len(rec.All()) != 0 || len(st.at) != 0 || w.over != 0 {
				t.Errorf("calls %v alerts %d restarts %d over %d", sup.calls, len(rec.All()), len(st.at), w.over)
			}
		})
	}
	t.Run("removed from supervisord", func(t *testing.T) {
		e, sup, rec, _ := newEngine(t, sections.MemLimit{Processes: []string{"*"}, Max: 1 << 20})
		sup.err = &supervisor.Fault{Code: supervisor.FaultBadName, Name: "BAD_NAME"}
		e.act(over(e, 42, 2<<20), map[string]string{})
		if len(sup.calls) != 0 || len(rec.All()) != 0 {
			t.Errorf("calls %v alerts %d", sup.calls, len(rec.All()))
		}
	})
}

// TestRestartAndUnknownBudget: a restart stops and starts the process,
// records it and says so; an unreadable budget restarts nothing (fails
// closed) and says why.
func TestRestartAndUnknownBudget(t *testing.T) {
	e, sup, rec, st := newEngine(t, sections.MemLimit{Processes: []string{"*"}, Max: 1 << 20})
	w := over(e, 42, 2<<20)
	e.act(w, map[string]string{})
	if strings.Join(sup.calls, ",") != "stop trading:mm,start trading:mm" || len(st.at) != 1 {
		t.Fatalf("calls %v restarts %d", sup.calls, len(st.at))
	}
	a := rec.All()
	if len(a) != 1 || a[0].Condition != alert.CondMemory || !strings.Contains(a[0].Action, "restarted") || a[0].Details["restarts_left"] != "3 of 3" {
		t.Fatalf("alerts %+v", a)
	}

	e, sup, rec, st = newEngine(t, sections.MemLimit{Processes: []string{"*"}, Max: 1 << 20})
	st.err = errors.New("database is locked")
	w = over(e, 42, 2<<20)
	e.act(w, map[string]string{})
	if len(sup.calls) != 0 || w.state != StatePaused || len(rec.All()) != 1 || !strings.Contains(rec.All()[0].Action, "database is locked") {
		t.Errorf("calls %v state %s alerts %+v", sup.calls, w.state, rec.All())
	}
}

// TestMeasureStandIns: a measure that cannot be read falls back to one
// that can, with a note, never to nothing.
func TestMeasureStandIns(t *testing.T) {
	rd := &procstat.Reading{Proc: procstat.Proc{RSS: 10, PSS: -1}, TreeRSS: 30, TreePSS: -1, Cgroup: -1, CgroupNote: "no cgroup of its own"}
	for m, want := range map[string]int64{"rss": 10, "pss": 10, "tree_rss": 30, "tree_pss": 30, "cgroup": 30} {
		v, _, note := measureOf(rd, m)
		if v != want || (m != "rss" && m != "tree_rss" && note == "") {
			t.Errorf("%s: %d %q", m, v, note)
		}
	}
}

// TestEvaluateLadder: warn, then `for` samples over, then the action; a
// sample back under resets the count.
func TestEvaluateLadder(t *testing.T) {
	e, sup, rec, _ := newEngine(t, sections.MemLimit{Processes: []string{"*"}, Max: 100 << 20, Warn: 80 << 20, For: 3})
	w := over(e, 42, 0)
	w.start = 7
	now := time.Now()
	sample := func(v int64) {
		var out outbox
		e.mu.Lock()
		e.evaluate(w, &procstat.Reading{Proc: procstat.Proc{PID: 42, Start: 7, RSS: v}, TreeRSS: v, Cgroup: -1}, now, &out)
		e.mu.Unlock()
		out.send(e)
		now = now.Add(5 * time.Second)
	}
	sample(90 << 20)
	if w.state != StateWarning || len(rec.All()) != 1 || rec.All()[0].Severity != alert.Warning {
		t.Fatalf("warn step: state %s alerts %d", w.state, len(rec.All()))
	}
	sample(110 << 20)
	sample(110 << 20)
	sample(90 << 20) // back under the limit: the count starts over
	sample(110 << 20)
	sample(110 << 20)
	if w.acting || len(sup.calls) != 0 {
		t.Fatal("acted before 3 consecutive samples")
	}
	sample(110 << 20)
	e.wg.Wait()
	if len(sup.calls) != 2 {
		t.Fatalf("calls %v after 3 consecutive samples", sup.calls)
	}
	// The restarted process comes back small: the incident resolves.
	w.reset()
	w.pid = 43
	sample(10 << 20)
	last := rec.All()[len(rec.All())-1]
	if last.Kind != alert.Resolve || last.Condition != alert.CondMemory {
		t.Errorf("last alert %+v", last)
	}
}

// TestSupervisordUnreachable: once supervisord cannot be read, memguard
// keeps reading /proc for the processes it last listed (the status says
// why), and a restart it cannot make is an alert, not a silence.
func TestSupervisordUnreachable(t *testing.T) {
	e, _, rec, _ := newEngine(t, sections.MemLimit{Processes: []string{"*"}, Max: 1 << 20, For: 1})
	me := supervisor.ProcessInfo{Group: "self", Name: "test", PID: os.Getpid(), State: supervisor.ProcessRunning}
	sup := &errLister{listSup: listSup{procs: []supervisor.ProcessInfo{me}}}
	sup.err = errors.New("connection refused")
	sup.fail = sup.err
	sup.info = me
	reader, err := procstat.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e.sup, e.reader, e.table = sup, reader, &proctable.Table{Sup: sup, Every: time.Nanosecond}
	e.status, e.statePath = filepath.Join(dir, "memguard.status.json"), filepath.Join(dir, "state.db")
	e.runRound(context.Background())
	e.runRound(context.Background())
	e.wg.Wait()
	e.mu.Lock()
	snap := e.snapshot()
	e.mu.Unlock()
	if !strings.Contains(snap.SupervisorError, "connection refused") || len(snap.Processes) != 1 || snap.Processes[0].Bytes <= 1<<20 {
		t.Fatalf("snapshot %+v", snap)
	}
	var actions []string
	for _, a := range rec.All() {
		actions = append(actions, a.Action)
	}
	if !strings.Contains(strings.Join(actions, "|"), "restart failed: stop self:test: connection refused") {
		t.Errorf("no alert says the restart could not be made: %q", actions)
	}
}

// TestHoveringAtTheWarningStepDoesNotFlap: a process that hovers just
// around the warning step opens one incident, which resolves only once
// it is clearly below.
func TestHoveringAtTheWarningStepDoesNotFlap(t *testing.T) {
	e, _, rec, _ := newEngine(t, sections.MemLimit{Processes: []string{"*"}, Max: 100 << 20, Warn: 80 << 20})
	w := over(e, 42, 0)
	now := time.Now()
	for _, v := range []int64{81 << 20, 79 << 20, 81 << 20, 78 << 20, 81 << 20, 70 << 20} {
		var out outbox
		e.mu.Lock()
		e.evaluate(w, &procstat.Reading{Proc: procstat.Proc{PID: 42, RSS: v}, TreeRSS: v, Cgroup: -1}, now, &out)
		e.mu.Unlock()
		out.send(e)
		now = now.Add(5 * time.Second)
	}
	var kinds []string
	for _, a := range rec.All() {
		kinds = append(kinds, string(a.Kind))
	}
	if strings.Join(kinds, ",") != "trigger,resolve" {
		t.Errorf("alerts %v; want one trigger and one resolve", kinds)
	}
}
