package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/session"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// fakeSup is supervisord's processes as marketclock acts on them; every
// call is logged with the fake clock's time (UTC).
type fakeSup struct {
	mu    sync.Mutex
	now   func() time.Time
	procs map[string]supervisor.ProcessState
	calls []string
}

func newFakeSup(now func() time.Time, names ...string) *fakeSup {
	f := &fakeSup{now: now, procs: map[string]supervisor.ProcessState{}}
	for _, n := range names {
		f.procs[n] = supervisor.ProcessStopped
	}
	return f
}

func (f *fakeSup) log(c string) {
	f.calls = append(f.calls, f.now().UTC().Format("01-02 15:04 ")+c)
}

func (f *fakeSup) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []supervisor.ProcessInfo
	for _, n := range slices.Sorted(maps.Keys(f.procs)) {
		g, name, _ := strings.Cut(n, ":")
		out = append(out, supervisor.ProcessInfo{Group: g, Name: name, State: f.procs[n]})
	}
	return out, nil
}

func (f *fakeSup) StartProcess(_ context.Context, n string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log("start " + n)
	if f.procs[n] == supervisor.ProcessRunning {
		return &supervisor.Fault{Code: supervisor.FaultAlreadyStarted, Name: "ALREADY_STARTED", Detail: n}
	}
	f.procs[n] = supervisor.ProcessRunning
	return nil
}

func (f *fakeSup) StopProcess(_ context.Context, n string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log("stop " + n)
	if f.procs[n] != supervisor.ProcessRunning {
		return &supervisor.Fault{Code: supervisor.FaultNotRunning, Name: "NOT_RUNNING", Detail: n}
	}
	f.procs[n] = supervisor.ProcessStopped
	return nil
}

func (f *fakeSup) SignalProcess(_ context.Context, n, sig string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log("signal " + sig + " " + n)
	return nil
}

func (f *fakeSup) SendProcessStdin(_ context.Context, n, data string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log("stdin " + strings.TrimSpace(data) + " " + n)
	return nil
}

func (f *fakeSup) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

type recAlerts struct {
	testsupport.Recorder[*alert.Alert]
}

func (r *recAlerts) Submit(_ context.Context, a *alert.Alert) error { r.Add(a); return nil }

// memLatch is the halt latch in memory.
type memLatch struct {
	mu      sync.Mutex
	latched bool
}

func (l *memLatch) set(v bool) { l.mu.Lock(); l.latched = v; l.mu.Unlock() }
func (l *memLatch) Get(context.Context) (halt.LatchState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return halt.LatchState{Latched: l.latched}, nil
}
func (l *memLatch) Set(context.Context, halt.Record) error            { l.set(true); return nil }
func (l *memLatch) Complete(context.Context, string, time.Time) error { return nil }
func (l *memLatch) Clear(context.Context, string, time.Time) error    { l.set(false); return nil }

// week is a simulated XLON week around Easter 2027: Good Friday (26 Mar)
// and Easter Monday (29 Mar) are holidays, the clocks go forward on
// Sunday 28 Mar (GMT to BST), the overlay makes Thursday 25 Mar an early
// close at 12:30.
type week struct {
	t      *testing.T
	dir    string
	clock  time.Time
	sup    *fakeSup
	store  *state.Store
	alerts *recAlerts
	latch  *memLatch
	sec    sections.Marketclock
	e      *engine
}

var london, _ = time.LoadLocation("Europe/London")

func newWeek(t *testing.T) *week {
	dir := t.TempDir()
	overlay := filepath.Join(dir, "overlay.txt")
	if err := os.WriteFile(overlay, []byte("2027-03-25 XLON close 12:30 early close before Easter (test)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	connect := script("connect.sh", `echo "$MARKETCLOCK_DAY $MARKETCLOCK_PHASE $MARKETCLOCK_SESSION" >> `+dir+`/connect.log`)
	snapshot := script("snapshot.sh", `echo "$MARKETCLOCK_DAY" >> `+dir+`/snapshot.log`)
	positions := script("positions.sh", `if [ -e `+dir+`/positions.bad ]; then echo "position mismatch: ESM7 +3 broker, +1 book"; exit 1; fi; echo ok`)
	sec := sections.Marketclock{
		Exchange: "XLON", Overlay: overlay, LateAfter: 10 * time.Minute,
		Modes: &sections.Modes{Processes: []string{"strat:*"}, Via: sections.ViaSignal, CloseOnly: "USR1", Normal: "USR2"},
		Phases: []sections.Phase{
			{Name: "connect", At: "open - 15m", Start: []string{"md:*"}, Run: []sections.Command{{Argv: []string{connect}}}},
			{Name: "preopen", At: "open - 5m", Checks: &sections.Checks{Running: []string{"md:*", "risk_manager"},
				Commands: []sections.Command{{Name: "positions", Argv: []string{positions}}}, Retry: time.Minute}},
			{Name: "open", At: "open", Requires: "preopen", Start: []string{"strat:*"}, Mode: sections.ModeNormal},
			{Name: "close-only", At: "close - 10m", Mode: sections.ModeCloseOnly},
			{Name: "snapshot", At: "close", Run: []sections.Command{{Argv: []string{snapshot}, WhileHalted: true}}, Missed: "run"},
			{Name: "stop", At: "close + 30m", Stop: []string{"strat:*", "md:*"}},
		},
	}.WithDefaults()
	if err := sec.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &week{t: t, dir: dir, store: st, alerts: &recAlerts{}, latch: &memLatch{}, sec: sec}
	w.sup = newFakeSup(w.now, "md:feed", "strat:alpha", "strat:beta", "risk_manager:risk_manager")
	w.sup.procs["risk_manager:risk_manager"] = supervisor.ProcessRunning
	return w
}

func (w *week) now() time.Time { return w.clock }

// boot starts a marketclock at the fake clock's time, as after a restart.
func (w *week) boot() {
	p, err := newPlan(w.sec)
	if err != nil {
		w.t.Fatal(err)
	}
	w.e = &engine{log: zerolog.Nop(), plan: p, sec: w.sec, sup: w.sup, alerts: w.alerts, latch: w.latch, now: w.now,
		started: w.clock, host: "h", redact: func(s string) string { return s }, healthStatus: filepath.Join(w.dir, "healthprobe.status.json"),
		cmdEnv: []string{"PATH=/usr/bin:/bin"},
		store:  func(context.Context) (phaseStore, error) { return w.store, nil }}
}

// run steps the engine every minute (every hour outside 06:00-18:00
// London) until end.
func (w *week) run(end time.Time) {
	for w.clock.Before(end) {
		if _, err := w.e.step(context.Background()); err != nil {
			if err == errKilled {
				return
			}
			w.t.Fatal(err)
		}
		if h := w.clock.In(london).Hour(); h >= 6 && h < 18 {
			w.clock = w.clock.Add(time.Minute)
		} else {
			w.clock = w.clock.Add(time.Hour).Truncate(time.Hour)
		}
	}
}

func at(day string, hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, london)
	if err != nil {
		panic(err)
	}
	return t
}

func (w *week) expectCalls(what string, want ...string) {
	w.t.Helper()
	got := w.sup.take()
	slices.Sort(got) // calls of one minute are made at once
	slices.Sort(want)
	if !slices.Equal(got, want) {
		w.t.Errorf("%s: supervisord calls\n got %q\nwant %q", what, got, want)
	}
}

func (w *week) sessionAt(t time.Time) session.Span {
	w.t.Helper()
	tl, err := w.store.Session(context.Background(), "XLON")
	if err != nil || tl == nil {
		w.t.Fatalf("session: %v %v", tl, err)
	}
	s, ok := tl.At(t)
	if !ok {
		w.t.Fatalf("the published timeline does not cover %s", t)
	}
	return s
}

func (w *week) phase(day, name string) state.Phase {
	w.t.Helper()
	list, err := w.store.Phases(context.Background(), "XLON", day)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, p := range list {
		if p.Day == day && p.Phase == name {
			return p
		}
	}
	w.t.Fatalf("no record of %s %s", day, name)
	return state.Phase{}
}

func readLines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(b), "\n", " | "))
}

func TestSimulatedWeek(t *testing.T) {
	w := newWeek(t)

	// Wednesday 24 March (GMT: London = UTC): a regular day, but the
	// position reconciliation fails: the open starts nothing, a critical
	// alert says which check failed and with what output; close-only and
	// the stop still run.
	if err := os.WriteFile(filepath.Join(w.dir, "positions.bad"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A fresh install at midnight catches up Monday's and Tuesday's
	// phases: their starts are netted away by their stops, the snapshot
	// (missed: run) runs, the connect command (missed: skip) does not.
	w.clock = at("2027-03-24", "00:00")
	w.boot()
	w.run(at("2027-03-24", "07:00"))
	for _, c := range w.sup.take() {
		if !strings.Contains(c, " stop ") {
			t.Errorf("the catch-up of Monday and Tuesday did %q: only stops are due", c)
		}
	}
	w.run(at("2027-03-24", "07:50"))
	w.expectCalls("Wed connect", "03-24 07:45 start md:feed")
	if s := w.sessionAt(at("2027-03-24", "07:49")); s.State != session.PreOpen || s.Day != session.Regular {
		t.Errorf("07:49: %+v, want pre-open on a regular day", s)
	}
	w.run(at("2027-03-24", "18:00"))
	// No strategy runs at 16:20: close-only reaches none.
	w.expectCalls("Wed after the failed checks", "03-24 17:00 stop md:feed", "03-24 17:00 stop strat:alpha", "03-24 17:00 stop strat:beta")
	open := w.phase("2027-03-24", "open")
	if open.Status != statusRefused || !strings.Contains(open.Steps[0].Detail, "position mismatch") {
		t.Errorf("Wed open: %+v", open)
	}
	var crit []*alert.Alert
	for _, a := range w.alerts.All() {
		if a.Severity == alert.Critical {
			crit = append(crit, a)
		}
	}
	var crit24 int
	for _, a := range crit {
		if a.Details["day"] == "2027-03-24" {
			crit24++
		}
	}
	if crit24 != 1 {
		t.Errorf("Wednesday paged %d critical alerts, want 1 (the failed check; the refusal it causes is a warning)", crit24)
	}
	if len(crit) == 0 || !strings.Contains(crit[0].Summary, "check positions") || !strings.Contains(crit[0].Details["failed_checks"], "ESM7 +3 broker") {
		t.Fatalf("no critical alert naming the failed check and its output: %+v", crit)
	}
	os.Remove(filepath.Join(w.dir, "positions.bad"))

	// Thursday 25 March: the overlay's early close at 12:30 moves every
	// close-relative phase.
	w.run(at("2027-03-25", "18:00"))
	w.expectCalls("Thu early close",
		"03-25 07:45 start md:feed",
		"03-25 08:00 start strat:alpha", "03-25 08:00 start strat:beta",
		"03-25 08:00 signal USR2 strat:alpha", "03-25 08:00 signal USR2 strat:beta",
		"03-25 12:20 signal USR1 strat:alpha", "03-25 12:20 signal USR1 strat:beta",
		"03-25 13:00 stop md:feed", "03-25 13:00 stop strat:alpha", "03-25 13:00 stop strat:beta")
	if s := w.sessionAt(at("2027-03-25", "12:25")); s.State != session.CloseOnly || s.Day != session.EarlyClose {
		t.Errorf("Thu 12:25: %+v, want close-only on an early-close day", s)
	}

	// Good Friday, the weekend with the change to BST, Easter Monday:
	// nothing happens.
	w.run(at("2027-03-29", "23:00"))
	w.expectCalls("Good Friday to Easter Monday")
	if s := w.sessionAt(at("2027-03-29", "10:00")); s.State != session.Holiday || s.Note != "Easter Monday" {
		t.Errorf("Easter Monday: %+v", s)
	}

	// Tuesday 30 March, BST: the host boots at 10:40. What should run now
	// starts (the checks run first), the 07:45 command is not replayed
	// (missed: skip), the snapshot at the close runs as usual.
	w.clock = at("2027-03-30", "10:40")
	w.boot()
	w.run(at("2027-03-30", "10:45"))
	w.expectCalls("Tue boot at 10:40",
		"03-30 09:40 start md:feed",
		"03-30 09:40 start strat:alpha", "03-30 09:40 start strat:beta",
		"03-30 09:40 signal USR2 strat:alpha", "03-30 09:40 signal USR2 strat:beta")
	if c := w.phase("2027-03-30", "connect"); c.Status != statusDone || !strings.Contains(c.Note, "missed") {
		t.Errorf("Tue connect: %+v", c)
	} else if s, _ := c.Step("run connect.sh"); s.Status != stepSkipped {
		t.Errorf("Tue connect's command: %+v, want skipped", s)
	}
	w.run(at("2027-03-30", "18:00"))
	w.expectCalls("Tue afternoon (BST: UTC+1)",
		"03-30 15:20 signal USR1 strat:alpha", "03-30 15:20 signal USR1 strat:beta",
		"03-30 16:00 stop md:feed", "03-30 16:00 stop strat:alpha", "03-30 16:00 stop strat:beta")

	// Wednesday 31 March: the listener is SIGKILLed at the open, after
	// supervisord started the strategies and before the start is
	// recorded. The restart finishes the phase without running it twice.
	w.e.kill = func(step string) bool { return strings.HasPrefix(step, "start strat") }
	w.run(at("2027-03-31", "08:05"))
	w.expectCalls("Wed to the kill",
		"03-31 06:45 start md:feed",
		"03-31 07:00 start strat:alpha", "03-31 07:00 start strat:beta")
	if c := readLines(t, filepath.Join(w.dir, "connect.log")); len(c) == 0 {
		t.Fatal("connect.log is empty")
	}
	if o := w.phase("2027-03-31", "open"); o.Status != statusRunning {
		t.Fatalf("open after the kill: %+v, want running (interrupted)", o)
	}
	w.clock = w.clock.Add(30 * time.Second)
	w.boot()
	w.run(at("2027-03-31", "08:10"))
	// The start again (supervisord: already started), then normal mode,
	// which the killed run never reached.
	w.expectCalls("the resumed open", "03-31 07:00 start strat:alpha", "03-31 07:00 start strat:beta",
		"03-31 07:00 signal USR2 strat:alpha", "03-31 07:00 signal USR2 strat:beta")
	if o := w.phase("2027-03-31", "open"); o.Status != statusDone {
		t.Errorf("open after the restart: %+v", o)
	}

	// A clock step back by an hour after the open: nothing runs again.
	w.clock = at("2027-03-31", "07:05")
	w.run(at("2027-03-31", "08:15"))
	w.expectCalls("clock stepped back")

	// Trading is halted before Thursday's open: the open starts nothing,
	// the stop still runs.
	w.run(at("2027-03-31", "18:00"))
	w.sup.take()
	w.latch.set(true)
	w.run(at("2027-04-01", "18:00"))
	w.expectCalls("Thu halted", "04-01 16:00 stop md:feed", "04-01 16:00 stop strat:alpha", "04-01 16:00 stop strat:beta")
	if o := w.phase("2027-04-01", "open"); o.Status != statusRefused {
		t.Errorf("open while halted: %+v", o)
	}

	// The snapshot ran once a day on each trading day, the connect command
	// on each but the one booted mid-session.
	if got := readLines(t, filepath.Join(w.dir, "snapshot.log")); strings.Join(got, " ") != "2027-03-22 | 2027-03-23 | 2027-03-24 | 2027-03-25 | 2027-03-30 | 2027-03-31 | 2027-04-01 |" {
		t.Errorf("snapshot.log: %q", got)
	}
	if got := readLines(t, filepath.Join(w.dir, "connect.log")); len(got) == 0 || !strings.Contains(strings.Join(got, " "), "2027-03-24 connect pre-open") || strings.Contains(strings.Join(got, " "), "2027-03-30") {
		t.Errorf("connect.log: %q", got)
	}
}

// TestModeByCommand: close-only and normal by a command, once each, with
// the mode and the phase in its environment; a command's secrets never
// reach the record.
func TestModeByCommand(t *testing.T) {
	w := newWeek(t)
	log := filepath.Join(w.dir, "mode.log")
	cmd := []string{"/bin/sh", "-c", `echo "$MARKETCLOCK_MODE $MARKETCLOCK_PHASE $MARKETCLOCK_DAY_KIND" >> ` + log}
	w.sec.Modes = &sections.Modes{Via: sections.ViaCommand, CloseOnlyCommand: cmd, NormalCommand: cmd, Timeout: 10 * time.Second}
	w.clock = at("2027-03-31", "07:30")
	w.boot()
	w.run(at("2027-03-31", "18:00"))
	got := readLines(t, log)
	if strings.Join(got, " ") != "normal open regular | close_only close-only regular |" {
		t.Errorf("mode.log: %q", got)
	}
	if c := w.phase("2027-03-31", "close-only"); c.Status != statusDone {
		t.Errorf("close-only: %+v", c)
	}
}
