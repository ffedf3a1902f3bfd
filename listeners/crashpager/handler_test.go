package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

func crasherSupervisor() *fakeSupervisor {
	return &fakeSupervisor{
		infos: map[string]supervisor.ProcessInfo{
			"strat:mm": {Name: "mm", Group: "strat", State: supervisor.ProcessStarting, Description: "pid 12"},
		},
		tails:   map[string]string{"strat:mm": "line one\npanic: nil map\ngoroutine 1 [running]:\n"},
		mainLog: "2025-03-04 10:00:00,001 WARN exited: mm (exit status 2; not expected)\n",
	}
}

func TestUnexpectedExitsAndSpree(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		exits     int
		every     time.Duration
		expected  bool
		process   string // group:name
		want      string // alert summary after the exits
		wantCount string // restarts_in_window of the last alert
	}{
		{name: "one exit warns", exits: 1, every: time.Second, process: "strat:mm",
			want: "trigger strat:mm exited warning\n", wantCount: "1"},
		{name: "threshold not exceeded", exits: 3, every: time.Second, process: "strat:mm",
			want: strings.Repeat("trigger strat:mm exited warning\n", 3), wantCount: "3"},
		{name: "fourth exit in window is a spree", exits: 5, every: time.Second, process: "strat:mm",
			want: strings.Repeat("trigger strat:mm exited warning\n", 4) + strings.Repeat("trigger strat:mm spree critical\n", 4) +
				"trigger strat:mm exited warning\ntrigger strat:mm spree critical\n", wantCount: "5"},
		{name: "exits spread wider than the window", cfg: Config{SpreeWindow: 10 * time.Second}, exits: 6,
			every: 4 * time.Second, process: "strat:mm",
			want: strings.Repeat("trigger strat:mm exited warning\n", 6), wantCount: "3"},
		{name: "custom threshold", cfg: Config{SpreeThreshold: 1}, exits: 2, every: time.Second, process: "strat:mm",
			want: "trigger strat:mm exited warning\ntrigger strat:mm exited warning\n" +
				"trigger strat:mm spree critical\ntrigger strat:mm spree critical\n", wantCount: "2"},
		{name: "expected exit is quiet", exits: 5, every: time.Second, expected: true, process: "strat:mm"},
		{name: "excluded program is quiet", cfg: Config{Exclude: []string{"strat:*"}}, exits: 5, every: time.Second,
			process: "strat:mm"},
		{name: "not included is quiet", cfg: Config{Include: []string{"risk_*"}}, exits: 5, every: time.Second,
			process: "strat:mm"},
		{name: "own process is ignored", exits: 5, every: time.Second, process: "crashpager:crashpager"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.cfg, crasherSupervisor())
			group, name, _ := strings.Cut(tt.process, ":")
			for i := 0; i < tt.exits; i++ {
				f.state(group, name, "STARTING", "RUNNING", false, 12)
				f.clk.advance(tt.every)
				f.state(group, name, "RUNNING", "EXITED", tt.expected, 12)
			}
			got := f.sub.take()
			if s := summary(got); s != tt.want {
				t.Fatalf("alerts:\n%s\nwant:\n%s", s, tt.want)
			}
			if len(got) == 0 {
				return
			}
			last := got[len(got)-1]
			if c := last.Details["restarts_in_window"]; c != tt.wantCount {
				t.Errorf("restarts_in_window = %q, want %q", c, tt.wantCount)
			}
			for _, a := range got {
				if a.Details["exit_status"] != "2" || a.Details["exit"] != "exit status 2" {
					t.Errorf("%s: exit details %q/%q, want 2 from the main log", a.Key, a.Details["exit_status"], a.Details["exit"])
				}
				if a.Details["uptime"] != tt.every.String() {
					t.Errorf("%s: uptime %q, want %s", a.Key, a.Details["uptime"], tt.every)
				}
				if a.Details["pid"] != "12" || a.Details["from_state"] != "RUNNING" || a.Details["to_state"] != "EXITED" {
					t.Errorf("%s: details %v", a.Key, a.Details)
				}
				if a.LogTail != "line one\npanic: nil map\ngoroutine 1 [running]:" {
					t.Errorf("%s: log tail %q", a.Key, a.LogTail)
				}
				if want := alert.Key("host1", tt.process, a.Condition); a.Key != want || a.Listener != "crashpager" {
					t.Errorf("key %q listener %q, want %q crashpager", a.Key, a.Listener, want)
				}
			}
		})
	}
}

func TestRedeliveredExitCountsOnce(t *testing.T) {
	f := newFixture(t, Config{SpreeThreshold: 1}, crasherSupervisor())
	f.state("strat", "mm", "STARTING", "RUNNING", false, 12)
	for i := 0; i < 3; i++ { // the same event, re-sent after a FAIL or a restart
		f.stateWithSource("inst/pool/7", "strat", "mm", "RUNNING", "EXITED", false, 12)
	}
	got := f.sub.take()
	if s := summary(got); s != "trigger strat:mm exited warning\n" {
		t.Fatalf("alerts:\n%s", s)
	}
}

func TestExitStatusSources(t *testing.T) {
	tests := []struct {
		name       string
		info       supervisor.ProcessInfo
		mainLog    string
		wantStatus string
		wantExit   string
	}{
		{name: "still exited: getProcessInfo", info: supervisor.ProcessInfo{Name: "mm", Group: "strat",
			State: supervisor.ProcessExited, ExitStatus: 7}, mainLog: "", wantStatus: "7"},
		{name: "restarted: main log", info: supervisor.ProcessInfo{Name: "mm", Group: "strat",
			State: supervisor.ProcessRunning}, mainLog: "x exited: mm (exit status 9; not expected)\n",
			wantStatus: "9", wantExit: "exit status 9"},
		{name: "signal", info: supervisor.ProcessInfo{Name: "mm", Group: "strat", State: supervisor.ProcessStarting},
			mainLog:  "x exited: mm (terminated by SIGSEGV (core dumped); not expected)\n",
			wantExit: "terminated by SIGSEGV (core dumped)"},
		{name: "unknown", info: supervisor.ProcessInfo{Name: "mm", Group: "strat", State: supervisor.ProcessStarting}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv := &fakeSupervisor{infos: map[string]supervisor.ProcessInfo{"strat:mm": tt.info}, mainLog: tt.mainLog}
			f := newFixture(t, Config{}, sv)
			f.state("strat", "mm", "RUNNING", "EXITED", false, 3)
			got := f.sub.take()
			if len(got) != 1 {
				t.Fatalf("got %d alerts, want 1", len(got))
			}
			d := got[0].Details
			if d["exit_status"] != tt.wantStatus || d["exit"] != tt.wantExit {
				t.Errorf("exit_status %q exit %q, want %q %q", d["exit_status"], d["exit"], tt.wantStatus, tt.wantExit)
			}
			if d["state_now"] != tt.info.State.String() {
				t.Errorf("state_now %q, want %s", d["state_now"], tt.info.State)
			}
		})
	}
}

func TestSlowSupervisorDoesNotHoldTheAck(t *testing.T) {
	sv := crasherSupervisor()
	sv.delay = time.Hour
	f := newFixture(t, Config{TailTimeout: 20 * time.Millisecond}, sv)
	done := make(chan struct{})
	go func() {
		f.state("strat", "mm", "RUNNING", "EXITED", false, 12)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("handleState still blocked on supervisord after 10s")
	}
	got := f.sub.take()
	if len(got) != 1 {
		t.Fatalf("got %d alerts, want 1 without details", len(got))
	}
	if got[0].LogTail != "" || got[0].Details["exit_status"] != "" {
		t.Errorf("details from a timed-out supervisord: tail %q, details %v", got[0].LogTail, got[0].Details)
	}
}

func TestNoSupervisor(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	f.state("strat", "mm", "STARTING", "RUNNING", false, 12)
	f.clk.advance(3 * time.Second)
	f.state("strat", "mm", "RUNNING", "EXITED", false, 12)
	got := f.sub.take()
	if len(got) != 1 || got[0].Details["uptime"] != "3s" || got[0].Details["pid"] != "12" {
		t.Fatalf("alerts %s details %v", summary(got), got[0].Details)
	}
}

func TestFatal(t *testing.T) {
	sv := &fakeSupervisor{infos: map[string]supervisor.ProcessInfo{
		"feed:feed": {Name: "feed", Group: "feed", State: supervisor.ProcessFatal, SpawnErr: "Exited too quickly (process log may have details)"},
	}, tails: map[string]string{"feed:feed": "cannot bind :9000\n"}}
	f := newFixture(t, Config{}, sv)
	f.state("feed", "feed", "BACKOFF", "FATAL", false, 0)
	got := f.sub.take()
	if s := summary(got); s != "trigger feed:feed fatal critical\n" {
		t.Fatalf("alerts:\n%s", s)
	}
	if got[0].Details["spawn_error"] == "" || got[0].LogTail != "cannot bind :9000" {
		t.Errorf("details %v tail %q", got[0].Details, got[0].LogTail)
	}
}

func TestStableResolve(t *testing.T) {
	f := newFixture(t, Config{StableFor: 30 * time.Second, SpreeThreshold: 1}, crasherSupervisor())
	f.state("strat", "mm", "STARTING", "RUNNING", false, 12)
	f.state("strat", "mm", "RUNNING", "EXITED", false, 12)
	f.state("strat", "mm", "STARTING", "RUNNING", false, 13)
	f.state("strat", "mm", "RUNNING", "EXITED", false, 13)
	f.state("strat", "mm", "EXITED", "BACKOFF", false, 0)
	f.state("strat", "mm", "BACKOFF", "FATAL", false, 0)
	f.wantAlerts(t, "trigger strat:mm exited warning\ntrigger strat:mm exited warning\n"+
		"trigger strat:mm spree critical\ntrigger strat:mm spree critical\ntrigger strat:mm fatal critical\n")
	f.clk.advance(time.Minute)
	f.tick() // FATAL: nothing resolves
	f.state("strat", "mm", "FATAL", "STARTING", false, 0)
	f.state("strat", "mm", "STARTING", "RUNNING", false, 20)
	f.clk.advance(29 * time.Second)
	f.tick() // not stable yet
	if got := f.sub.take(); len(got) != 0 {
		t.Fatalf("resolved before stable_for:\n%s", summary(got))
	}
	f.clk.advance(time.Second)
	f.tick()
	got := f.sub.take()
	if s := summary(got); s != "resolve strat:mm exited warning\nresolve strat:mm spree critical\nresolve strat:mm fatal critical\n" {
		t.Fatalf("resolves:\n%s", s)
	}
	for _, a := range got {
		if a.TraceID == "" || a.TraceID != got[0].TraceID {
			t.Errorf("trace ids differ within one episode: %q vs %q", a.TraceID, got[0].TraceID)
		}
	}
	f.clk.advance(time.Minute)
	f.tick()
	if got := f.sub.take(); len(got) != 0 {
		t.Fatalf("resolved twice:\n%s", summary(got))
	}
	// The window was reset: one more exit is a new warning, not a spree.
	f.state("strat", "mm", "RUNNING", "EXITED", false, 20)
	f.wantAlerts(t, "trigger strat:mm exited warning\n")
}

func TestCrashAgainBeforeStable(t *testing.T) {
	f := newFixture(t, Config{StableFor: 30 * time.Second}, nil)
	f.state("strat", "mm", "RUNNING", "EXITED", false, 12)
	f.state("strat", "mm", "STARTING", "RUNNING", false, 13)
	f.clk.advance(20 * time.Second)
	f.tick()
	f.state("strat", "mm", "RUNNING", "EXITED", false, 13)
	f.state("strat", "mm", "STARTING", "RUNNING", false, 14)
	f.clk.advance(20 * time.Second)
	f.tick()
	f.wantAlerts(t, "trigger strat:mm exited warning\ntrigger strat:mm exited warning\n")
}

func TestSubmitFailureKeepsGoing(t *testing.T) {
	f := newFixture(t, Config{StableFor: time.Second}, nil)
	f.sub.err = errStoreBroken
	f.state("strat", "mm", "RUNNING", "EXITED", false, 12)
	if !strings.Contains(f.log.String(), "alert not committed") {
		t.Errorf("store failure not logged: %s", f.log.String())
	}
	f.sub.err = nil
	f.state("strat", "mm", "STARTING", "RUNNING", false, 13)
	f.clk.advance(time.Minute)
	f.tick()
	if got := f.sub.take(); len(got) != 0 {
		t.Errorf("resolved an incident that was never committed:\n%s", summary(got))
	}
}

func TestListenerDown(t *testing.T) {
	tests := []struct {
		name  string
		to    string
		wants string
	}{
		{name: "exit pages", to: "EXITED", wants: "superguard listener haltguard:haltguard exited"},
		{name: "fatal pages", to: "FATAL", wants: "superguard listener haltguard:haltguard is FATAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{StableFor: 10 * time.Second}, nil)
			f.state("haltguard", "haltguard", "RUNNING", tt.to, true, 40)
			got := f.sub.take()
			if s := summary(got); s != "trigger haltguard:haltguard listener critical\n" {
				t.Fatalf("alerts:\n%s", s)
			}
			if !strings.HasPrefix(got[0].Summary, tt.wants) {
				t.Errorf("summary %q, want prefix %q", got[0].Summary, tt.wants)
			}
			f.state("haltguard", "haltguard", "STARTING", "RUNNING", false, 41)
			f.clk.advance(10 * time.Second)
			f.tick()
			f.wantAlerts(t, "resolve haltguard:haltguard listener critical\n")
		})
	}
}

func TestLateHeartbeat(t *testing.T) {
	f := newFixture(t, Config{HeartbeatPeriod: 5 * time.Second}, nil)
	ctx := context.Background()
	start := f.clk.now()
	_ = f.hb.Beat(ctx, "eventlog", start, 77, start)
	_ = f.hb.Beat(ctx, "unwatched", start, 78, start)
	f.clk.advance(15 * time.Second)
	f.tick() // exactly three periods: not late yet
	if got := f.sub.take(); len(got) != 0 {
		t.Fatalf("late too early:\n%s", summary(got))
	}
	f.clk.advance(time.Second)
	f.tick()
	got := f.sub.take()
	if s := summary(got); s != "trigger eventlog:eventlog listener critical\n" {
		t.Fatalf("alerts:\n%s", s)
	}
	if !strings.Contains(got[0].Summary, "has not handled a TICK for 16s") || got[0].Details["pid"] != "77" {
		t.Errorf("summary %q details %v", got[0].Summary, got[0].Details)
	}
	f.clk.advance(time.Second)
	f.tick() // still late: reported once per episode
	if got := f.sub.take(); len(got) != 0 {
		t.Fatalf("reported twice:\n%s", summary(got))
	}
	_ = f.hb.Beat(ctx, "eventlog", f.clk.now(), 77, f.clk.now())
	f.tick()
	f.wantAlerts(t, "resolve eventlog:eventlog listener critical\n")
}

func TestLateHeartbeatOfStoppedListenerIsQuiet(t *testing.T) {
	f := newFixture(t, Config{HeartbeatPeriod: 5 * time.Second}, nil)
	_ = f.hb.Beat(context.Background(), "eventlog", f.clk.now(), 77, f.clk.now())
	f.state("eventlog", "eventlog", "STOPPING", "STOPPED", false, 77)
	f.clk.advance(time.Hour)
	f.tick()
	if got := f.sub.take(); len(got) != 0 {
		t.Fatalf("operator-stopped listener reported:\n%s", summary(got))
	}
}

func TestReconcile(t *testing.T) {
	started := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	infos := []supervisor.ProcessInfo{
		{Name: "feed", Group: "feed", State: supervisor.ProcessFatal, Start: started, SpawnErr: "Exited too quickly"},
		{Name: "mm", Group: "strat", State: supervisor.ProcessRunning, Start: started, Now: started.Add(time.Hour)},
		{Name: "haltguard", Group: "haltguard", State: supervisor.ProcessFatal, Start: started},
		{Name: "crashpager", Group: "crashpager", State: supervisor.ProcessFatal, Start: started},
	}
	f := newFixture(t, Config{}, nil)
	ctx := context.Background()
	f.c.reconcile(ctx, "gap", infos)
	got := f.sub.take()
	if s := summary(got); !strings.Contains(s, "trigger feed:feed fatal critical\n") ||
		!strings.Contains(s, "trigger haltguard:haltguard listener critical\n") || len(got) != 2 {
		t.Fatalf("alerts:\n%s", s)
	}
	f.c.reconcile(ctx, "gap", infos) // same FATAL episode: nothing new
	if got := f.sub.take(); len(got) != 0 {
		t.Fatalf("reported twice:\n%s", summary(got))
	}
	// A restarted crashpager reconciles the same FATAL with the same source id,
	// so the pipeline's idempotency drops it.
	g := newFixture(t, Config{}, nil)
	g.sub = f.sub
	g.c.sub = f.sub
	g.c.reconcile(ctx, "start", infos)
	if got := f.sub.take(); len(got) != 0 {
		t.Fatalf("restart re-reported:\n%s", summary(got))
	}
	// The RUNNING program's start comes from supervisord: it is stable at once.
	if p := f.c.procs["strat:mm"]; p == nil || !p.runningSince.Equal(f.clk.now().Add(-time.Hour)) {
		t.Fatalf("runningSince not taken from getAllProcessInfo: %+v", p)
	}
}

// Reconciliation runs under a deadline (eventlistener's ReconcileTimeout).
// A supervisord too slow to return the stderr tails in time must not cost
// the FATAL alerts themselves, and a FATAL whose commit failed is reported
// by the next reconciliation.
func TestReconcileSlowSupervisorStillCommits(t *testing.T) {
	started := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	infos := []supervisor.ProcessInfo{
		{Name: "feed", Group: "feed", State: supervisor.ProcessFatal, Start: started},
		{Name: "risk", Group: "risk", State: supervisor.ProcessFatal, Start: started},
	}
	f := newFixture(t, Config{}, &fakeSupervisor{delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	f.c.reconcile(ctx, "gap", infos)
	f.wantAlerts(t, "trigger feed:feed fatal critical\ntrigger risk:risk fatal critical\n")

	g := newFixture(t, Config{}, nil)
	g.sub.err = errStoreBroken
	g.c.reconcile(context.Background(), "gap", infos[:1])
	g.sub.err = nil
	g.c.reconcile(context.Background(), "gap", infos[:1])
	if s := summary(g.sub.take()); s != "trigger feed:feed fatal critical\n" {
		t.Fatalf("alerts after a failed commit and a second reconciliation:\n%s", s)
	}
}

func TestReconcileAfterRestartWithOpenIncident(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	f.c.restoreOpen([]*state.Incident{{Status: state.IncidentOpen, Listeners: map[string]int{"crashpager": 1},
		Alert: alert.Alert{Host: "host1", Group: "feed", Program: "feed", Condition: alert.CondFatal}}})
	f.c.reconcile(context.Background(), "start", []supervisor.ProcessInfo{
		{Name: "feed", Group: "feed", State: supervisor.ProcessFatal, Start: f.clk.now()},
	})
	if got := f.sub.take(); len(got) != 0 {
		t.Fatalf("FATAL reported again after a restart:\n%s", summary(got))
	}
}

func TestReconcileAfterFatalEvent(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	f.state("feed", "feed", "BACKOFF", "FATAL", false, 0)
	f.c.reconcile(context.Background(), "gap", []supervisor.ProcessInfo{
		{Name: "feed", Group: "feed", State: supervisor.ProcessFatal, Start: f.clk.now()},
	})
	f.wantAlerts(t, "trigger feed:feed fatal critical\n")
}

func TestRestoreOpenIncidents(t *testing.T) {
	f := newFixture(t, Config{StableFor: 10 * time.Second}, nil)
	inc := func(host, group, program string, cond alert.Condition, by string, status state.IncidentStatus) *state.Incident {
		return &state.Incident{Status: status, Listeners: map[string]int{by: 1},
			Alert: alert.Alert{Host: host, Group: group, Program: program, Condition: cond, TraceID: "t-" + program}}
	}
	n := f.c.restoreOpen([]*state.Incident{
		inc("host1", "strat", "mm", alert.CondSpree, "crashpager", state.IncidentOpen),
		inc("host1", "strat", "mm", alert.CondExited, "crashpager", state.IncidentOpen),
		inc("host1", "feed", "feed", alert.CondFatal, "haltguard", state.IncidentOpen),     // not ours
		inc("host2", "strat", "mm", alert.CondFatal, "crashpager", state.IncidentOpen),     // other host
		inc("host1", "strat", "mm", alert.CondMemory, "crashpager", state.IncidentOpen),    // not a crash
		inc("host1", "strat", "mm", alert.CondFatal, "crashpager", state.IncidentResolved), // closed
	})
	if n != 2 {
		t.Fatalf("restored %d incidents, want 2", n)
	}
	f.state("strat", "mm", "STARTING", "RUNNING", false, 9)
	f.clk.advance(10 * time.Second)
	f.tick()
	got := f.sub.take()
	if s := summary(got); s != "resolve strat:mm exited warning\nresolve strat:mm spree critical\n" {
		t.Fatalf("resolves:\n%s", s)
	}
	if got[0].TraceID != "t-mm" {
		t.Errorf("trace id %q, want the incident's", got[0].TraceID)
	}
}
