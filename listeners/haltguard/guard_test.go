package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/halt/halttest"
	"github.com/superguard/superguard/pkg/supervisor"
)

const riskName = "risk_manager:risk_manager"

func newGuardRig(t *testing.T, cfg halt.Config) (*rig, *Guard) {
	t.Helper()
	r := newRig(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	g := NewGuard(ctx, r.e, r.sup, r.pages, zerolog.New(r.logs).Level(zerolog.DebugLevel))
	// The fake's pids are not real processes: watch nothing.
	g.watch.waitExit = func(ctx context.Context, _ int, stop <-chan struct{}) error {
		select {
		case <-stop:
		case <-ctx.Done():
		}
		return errors.New("not watched")
	}
	t.Cleanup(func() {
		cancel()
		g.Wait()
		g.WaitWatches()
	})
	return r, g
}

func TestGuardOnStateTriggers(t *testing.T) {
	rm := "risk_manager:risk_manager"
	tests := []struct {
		name     string
		change   StateChange
		booting  bool             // within the start-up grace
		running  bool             // seen RUNNING before the change
		daemon   supervisor.State // supervisord's own state (default RUNNING)
		wantHalt bool
	}{
		{name: "critical FATAL", change: StateChange{Process: rm, To: supervisor.ProcessFatal}, wantHalt: true},
		{name: "critical FATAL while booting", booting: true, change: StateChange{Process: rm, To: supervisor.ProcessFatal}, wantHalt: true},
		{name: "critical unexpected EXITED", change: StateChange{Process: rm, To: supervisor.ProcessExited}, wantHalt: true},
		{name: "critical expected EXITED", change: StateChange{Process: rm, To: supervisor.ProcessExited, Expected: true}, wantHalt: true},
		{name: "critical BACKOFF", change: StateChange{Process: rm, To: supervisor.ProcessBackoff}, wantHalt: true},
		{name: "critical STOPPING by a person", running: true, change: StateChange{Process: rm, From: "RUNNING", To: supervisor.ProcessStopping}, wantHalt: true},
		{name: "critical STOPPED by a person", change: StateChange{Process: rm, To: supervisor.ProcessStopped}, wantHalt: true},
		{name: "critical STOPPING while supervisord shuts down", running: true,
			daemon: supervisor.State{Code: supervisor.SupervisorShutdown, Name: "SHUTDOWN"},
			change: StateChange{Process: rm, To: supervisor.ProcessStopping}},
		{name: "critical EXITED while supervisord shuts down", running: true,
			daemon: supervisor.State{Code: supervisor.SupervisorShutdown, Name: "SHUTDOWN"},
			change: StateChange{Process: rm, To: supervisor.ProcessExited}, wantHalt: true},
		{name: "critical BACKOFF on its way up", booting: true, change: StateChange{Process: rm, From: "STARTING", To: supervisor.ProcessBackoff}},
		{name: "critical EXITED on its way up", booting: true, change: StateChange{Process: rm, From: "STARTING", To: supervisor.ProcessExited}},
		{name: "critical EXITED after it ran, within the grace", booting: true, running: true, change: StateChange{Process: rm, To: supervisor.ProcessExited}, wantHalt: true},
		{name: "critical STARTING", change: StateChange{Process: rm, To: supervisor.ProcessStarting}},
		{name: "target FATAL", change: StateChange{Process: "trading:strat_00", To: supervisor.ProcessFatal}},
		{name: "unrelated FATAL", change: StateChange{Process: "other:other", To: supervisor.ProcessFatal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, g := newGuardRig(t, halttest.Config())
			targets := r.sup.AddStack(3)
			r.sup.Add("other:other", supervisor.ProcessRunning)
			r.sup.Daemon = tt.daemon
			if tt.booting {
				g.SetStartupGrace(time.Now().Add(time.Hour))
			}
			if tt.running {
				g.OnState(context.Background(), StateChange{Process: rm, To: supervisor.ProcessRunning})
			}

			g.OnState(context.Background(), tt.change)
			if tt.wantHalt {
				// OnState returns once the latch is recorded.
				if st := r.latch.Current(); !st.Latched || st.Record.Trigger != tt.change.Process {
					t.Fatalf("latch %+v right after OnState", st)
				}
				halttest.Eventually(t, "every target stopped", func() bool { return r.sup.AllStopped(targets) })
				g.Wait()
				if n := len(r.pager.all()); n != 1 {
					t.Errorf("%d pages, want 1", n)
				}
				return
			}
			g.Wait()
			if r.latch.Current().Latched || len(r.sup.StopCalls()) > 0 || len(r.pager.all()) > 0 {
				t.Errorf("acted on a change that must not halt: latch %+v stops %v", r.latch.Current(), r.sup.StopCalls())
			}
		})
	}
}

func TestGuardHaltsOnceForConcurrentTriggers(t *testing.T) {
	r, g := newGuardRig(t, halttest.Config())
	r.sup.AddStack(3)
	fatal := StateChange{Process: "risk_manager:risk_manager", To: supervisor.ProcessFatal}
	g.OnState(context.Background(), fatal)
	g.OnState(context.Background(), fatal) // the event re-sent
	r.sup.SetState("risk_manager:risk_manager", supervisor.ProcessFatal)
	g.Check(context.Background(), r.sup.List(t), "tick")
	g.Wait()
	if r.latch.Sets != 1 {
		t.Errorf("latch written %d times, want 1", r.latch.Sets)
	}
	if n := len(r.logs.Audits(t, "halt")); n != 1 {
		t.Errorf("%d halts, want 1", n)
	}
}

func TestGuardEnforcesLatchOnTargetStart(t *testing.T) {
	r, g := newGuardRig(t, halttest.Config())
	r.sup.AddStack(2)
	rec := halt.Record{Reason: "manual", By: "cli:bob", TraceID: "tr-5", Since: time.Now()}
	r.latch.St = halt.LatchState{Latched: true, Record: rec}
	for _, n := range []string{"trading:strat_00", "trading:strat_01"} {
		r.sup.SetState(n, supervisor.ProcessStopped)
	}

	r.sup.SetState("trading:strat_01", supervisor.ProcessStarting) // a person's start
	g.OnState(context.Background(), StateChange{Process: "trading:strat_01", To: supervisor.ProcessStarting})
	halttest.Eventually(t, "strat_01 stopped again", func() bool { return r.sup.State("trading:strat_01") == supervisor.ProcessStopped })
	g.Wait()
	pages := r.pager.all()
	if len(pages) != 1 || pages[0].TraceID != "tr-5" || !strings.Contains(pages[0].Summary, "trading:strat_01") {
		t.Fatalf("pages %+v", pages)
	}
	// Not latched: a start is left alone.
	r.latch.St = halt.LatchState{}
	r.sup.SetState("trading:strat_00", supervisor.ProcessStarting)
	g.OnState(context.Background(), StateChange{Process: "trading:strat_00", To: supervisor.ProcessStarting})
	g.Wait()
	if s := r.sup.State("trading:strat_00"); s != supervisor.ProcessStarting {
		t.Errorf("strat_00 is %s: stopped without a latch", s)
	}
}

func TestGuardCheckSafetyNet(t *testing.T) {
	tests := []struct {
		name      string
		riskState supervisor.ProcessState
		removed   bool // the risk manager is gone from supervisord's config
		booting   bool // within the start-up grace
		resumed   bool // the risk manager went down before a forced resume
		wantHalt  bool
	}{
		{name: "FATAL found by a check", riskState: supervisor.ProcessFatal, wantHalt: true},
		{name: "RUNNING", riskState: supervisor.ProcessRunning},
		{name: "EXITED", riskState: supervisor.ProcessExited, wantHalt: true},
		{name: "STOPPED", riskState: supervisor.ProcessStopped, wantHalt: true},
		{name: "BACKOFF", riskState: supervisor.ProcessBackoff, wantHalt: true},
		{name: "STOPPED during the start-up grace", riskState: supervisor.ProcessStopped, booting: true},
		{name: "BACKOFF during the start-up grace", riskState: supervisor.ProcessBackoff, booting: true},
		{name: "FATAL during the start-up grace", riskState: supervisor.ProcessFatal, booting: true, wantHalt: true},
		{name: "removed from supervisord's configuration", removed: true, wantHalt: true},
		{name: "FATAL acknowledged by a forced resume", riskState: supervisor.ProcessFatal, resumed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := halttest.Config()
			r, g := newGuardRig(t, cfg)
			targets := r.sup.AddStack(2)
			procs := r.sup.List(t)
			if tt.removed {
				procs = slices.DeleteFunc(procs, func(p supervisor.ProcessInfo) bool { return cfg.IsCritical(p) })
			} else {
				r.sup.SetState("risk_manager:risk_manager", tt.riskState)
				procs = r.sup.List(t)
			}
			if tt.booting {
				g.SetStartupGrace(time.Now().Add(time.Hour))
			}
			if tt.resumed {
				r.latch.St = halt.LatchState{ResumedAt: time.Now().Add(time.Second), ResumedBy: "alice"}
			}
			g.Check(context.Background(), procs, "gap")
			g.Wait()
			if got := r.latch.Current().Latched; got != tt.wantHalt {
				t.Fatalf("latched = %v, want %v", got, tt.wantHalt)
			}
			if tt.wantHalt {
				if !r.sup.AllStopped(targets) {
					t.Error("targets not stopped")
				}
				if src := r.logs.Audits(t, "halt")[0]["source"]; src != "gap" {
					t.Errorf("halt source %v, want gap", src)
				}
			}
		})
	}
}

func TestGuardStartFinishesInterruptedHalt(t *testing.T) {
	r, g := newGuardRig(t, halttest.Config())
	targets := r.sup.AddStack(3)
	rec := halt.Record{Reason: "risk down", Trigger: "risk_manager:risk_manager", TriggerState: "FATAL", TraceID: "t-2", Since: time.Now()}
	r.latch.St = halt.LatchState{Latched: true, Record: rec}
	g.Check(context.Background(), r.sup.List(t), "start")
	g.Wait()
	if !r.sup.AllStopped(targets) {
		t.Fatal("targets not stopped on start-up")
	}
	if n := len(r.logs.Audits(t, "halt_resume_after_restart")); n != 1 {
		t.Errorf("%d halt completions, want 1", n)
	}
	if p := r.pager.all(); len(p) != 1 || !strings.HasPrefix(p[0].SourceID, "halt/t-2/finish/") {
		t.Errorf("pages %+v", p)
	}

	// A completed halt: a restart only enforces, with its own page.
	r.sup.SetState("trading:strat_00", supervisor.ProcessRunning)
	g.Check(context.Background(), r.sup.List(t), "start")
	g.Wait()
	if r.sup.State("trading:strat_00") != supervisor.ProcessStopped {
		t.Error("running target not stopped")
	}
	if n := len(r.logs.Audits(t, "halt_resume_after_restart")); n != 1 {
		t.Errorf("completed halt finished again")
	}
	if p := r.pager.all(); len(p) != 2 || !strings.HasPrefix(p[1].SourceID, "enforce/t-2/") {
		t.Errorf("pages %+v", p)
	}
}

func TestGuardRemoteCommands(t *testing.T) {
	r, g := newGuardRig(t, halttest.Config())
	targets := r.sup.AddStack(2)

	if g.Remote(context.Background(), "other.thing", "{}") {
		t.Error("claimed an unknown remote type")
	}
	if !g.Remote(context.Background(), RemoteHalt, `{"reason":"limits breached","by":"healthprobe"}`) {
		t.Fatal("did not handle superguard.halt")
	}
	st := r.latch.Current()
	if !st.Latched || st.Record.By != "remote:healthprobe" || st.Record.Reason != "limits breached" || st.Record.Trigger != "" {
		t.Fatalf("latch %+v", st)
	}
	halttest.Eventually(t, "targets stopped", func() bool { return r.sup.AllStopped(targets) })
	g.Wait()
	if p := r.pager.all(); len(p) != 1 || p[0].Key != alert.Key("host1", "", alert.CondHalt) {
		t.Fatalf("pages %+v", p)
	}

	// Off by default: a remote resume resumes nothing.
	g.Remote(context.Background(), RemoteResume, `{"by":"rogue","start":true,"force":true}`)
	g.Wait()
	if !r.latch.Current().Latched {
		t.Fatal("a remote resume resumed while remote_resume is off")
	}
	g.AllowRemoteResume(true)
	g.Remote(context.Background(), RemoteResume, `garbage`)
	g.Wait()
	if !r.latch.Current().Latched {
		t.Fatal("a garbled resume resumed")
	}
	g.Remote(context.Background(), RemoteResume, `{"by":"ops","start":true}`)
	g.Wait()
	if r.latch.Current().Latched {
		t.Fatal("still latched after superguard.resume")
	}
	for _, n := range targets {
		if s := r.sup.State(n); s != supervisor.ProcessRunning {
			t.Errorf("%s is %s after resume --start", n, s)
		}
	}
}

func TestGuardTickPagesBlindness(t *testing.T) {
	r, g := newGuardRig(t, halttest.Config())
	r.sup.AddStack(1)
	r.sup.FailCalls = blindAfter
	for range blindAfter {
		g.Tick()
		g.Wait()
	}
	pages := r.pager.all()
	if len(pages) != 1 || pages[0].Condition != alert.CondListener || pages[0].Kind != alert.Trigger {
		t.Fatalf("pages %+v, want one listener trigger", pages)
	}
	g.Tick()
	g.Wait()
	pages = r.pager.all()
	if len(pages) != 2 || pages[1].Kind != alert.Resolve || pages[1].Key != pages[0].Key {
		t.Fatalf("pages %+v, want the resolve", pages)
	}
}

func TestGuardCachesStopWaitBeforeAHalt(t *testing.T) {
	cfg := halttest.Config()
	cfg.VerifyTimeout = 0 // from the targets' stopwaitsecs
	r, g := newGuardRig(t, cfg)
	r.sup.AddStack(2)
	g.Check(context.Background(), r.sup.List(t), "start")
	g.Wait()
	if r.sup.ConfigReads != 1 {
		t.Fatalf("%d getAllConfigInfo reads on start-up, want 1", r.sup.ConfigReads)
	}
	g.OnState(context.Background(), StateChange{Process: riskName, To: supervisor.ProcessFatal})
	g.Wait()
	if r.sup.ConfigReads != 1 {
		t.Errorf("%d getAllConfigInfo reads after the halt: the halt must use the cache", r.sup.ConfigReads)
	}
	if !r.latch.Current().Latched {
		t.Error("no halt")
	}
	// A fresh cache is not read again on the next check.
	g.Check(context.Background(), r.sup.List(t), "tick")
	g.Wait()
	if r.sup.ConfigReads != 1 {
		t.Errorf("%d reads: a fresh cache was read again", r.sup.ConfigReads)
	}
}

// TestGuardHaltsWhenLatchUnreadable: a latch that cannot be read is treated
// as set: the first check halts (rewriting the latch), later ones do not
// halt again for the same failure.
func TestGuardHaltsWhenLatchUnreadable(t *testing.T) {
	r, g := newGuardRig(t, halttest.Config())
	targets := r.sup.AddStack(2)
	r.latch.GetErr = errors.New("halt latch /var/lib/superguard/halt.latch: checksum mismatch")
	g.Check(context.Background(), r.sup.List(t), "tick")
	halttest.Eventually(t, "every target stopped", func() bool { return r.sup.AllStopped(targets) })
	g.Wait()
	g.Check(context.Background(), r.sup.List(t), "tick")
	g.Wait()
	if n := len(r.logs.Audits(t, "halt")); n != 1 {
		t.Errorf("%d halts, want 1", n)
	}
	if !strings.Contains(r.logs.String(), "trading is treated as halted") {
		t.Errorf("log does not say why:\n%s", r.logs)
	}
}
