package halt_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/halt/halttest"
	"github.com/superguard/superguard/pkg/supervisor"
)

func fatalRequest() halt.Request {
	return halt.Request{
		Reason:  "risk_manager:risk_manager went FATAL",
		Trigger: halt.Trigger{Process: "risk_manager:risk_manager", State: supervisor.ProcessFatal, Source: "event"},
	}
}

func TestHaltStopsEveryTargetAndPagesOnce(t *testing.T) {
	for _, mode := range []halt.StopMode{halt.StopMulticall, halt.StopConcurrent} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := halttest.Config()
			cfg.StopMode = mode
			r := newRig(t, cfg)
			targets := r.sup.AddStack(10)
			r.sup.SetState("trading:strat_03", supervisor.ProcessStopped) // already down: not "stopped" by the halt
			r.sup.SetState("trading:strat_04", supervisor.ProcessBackoff) // would be restarted

			res := r.e.Halt(context.Background(), fatalRequest())
			r.e.Wait()

			if !res.Done() {
				t.Fatalf("halt not done: %+v", res)
			}
			for _, n := range targets {
				if s := r.sup.State(n); s != supervisor.ProcessStopped {
					t.Errorf("%s is %s after the halt, want STOPPED", n, s)
				}
			}
			for _, n := range []string{"risk_manager:risk_manager", "haltguard:haltguard"} {
				if slices.Contains(r.sup.StopCalls(), n) {
					t.Errorf("%s was stopped: it is not a target", n)
				}
			}
			wantStopped := slices.DeleteFunc(slices.Clone(targets), func(n string) bool { return n == "trading:strat_03" })
			if !slices.Equal(res.Stopped, wantStopped) {
				t.Errorf("Stopped = %v, want %v", res.Stopped, wantStopped)
			}
			if len(res.AlreadyDown) != 0 {
				t.Errorf("AlreadyDown = %v: a target down before the halt is not told to stop", res.AlreadyDown)
			}
			st := r.latch.Current()
			if !st.Latched || st.Record.Trigger != "risk_manager:risk_manager" || st.Record.TriggerState != "FATAL" {
				t.Errorf("latch = %+v, want latched by risk_manager FATAL", st)
			}
			if st.Record.Completed.IsZero() {
				t.Error("halt not marked complete")
			}
			pages := r.pager.all()
			if len(pages) != 1 {
				t.Fatalf("%d pages, want 1: %+v", len(pages), pages)
			}
			p := pages[0]
			if p.Kind != halt.ReportHalt || p.Result != res || p.Record.TraceID != st.Record.TraceID {
				t.Errorf("page %s of trace %q, want the halt's result with the latch's trace %q", p.Kind, p.Record.TraceID, st.Record.TraceID)
			}
			if !strings.Contains(res.TriggerTail, "lost its broker session") {
				t.Errorf("trigger tail %q lacks the trigger's stderr", res.TriggerTail)
			}
			if got := len(r.logs.Audits(t, "stop")); got != len(wantStopped) {
				t.Errorf("%d stop audit lines, want %d", got, len(wantStopped))
			}
			for _, line := range r.logs.Audits(t, "stop") {
				if line["trace_id"] != st.Record.TraceID {
					t.Errorf("audit line trace_id %v, want %s", line["trace_id"], st.Record.TraceID)
				}
			}
		})
	}
}

func TestHaltSendsEveryStopBeforeAnyFinishes(t *testing.T) {
	// Slow processes must not delay the others: every stop is sent before
	// any process has finished stopping.
	for _, mode := range []halt.StopMode{halt.StopMulticall, halt.StopConcurrent} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := halttest.Config()
			cfg.StopMode = mode
			r := newRig(t, cfg)
			targets := r.sup.AddStack(5)
			for _, n := range targets {
				r.sup.Proc(n).StopDelay = 100 * time.Millisecond
			}
			res := r.e.Halt(context.Background(), fatalRequest())
			if !res.Done() || len(res.Stopped) != len(targets) {
				t.Fatalf("halt = %+v", res)
			}
			var lastCall, firstStopped time.Time
			for _, n := range targets {
				p := r.sup.Proc(n)
				if p.StopCalledAt.After(lastCall) {
					lastCall = p.StopCalledAt
				}
				if firstStopped.IsZero() || p.StoppedAt.Before(firstStopped) {
					firstStopped = p.StoppedAt
				}
			}
			if !lastCall.Before(firstStopped) {
				t.Errorf("last stop sent at %v, first process stopped at %v: stops waited on each other",
					lastCall.Format(time.StampMicro), firstStopped.Format(time.StampMicro))
			}
		})
	}
}

func TestHaltKillsTargetIgnoringSIGTERM(t *testing.T) {
	r := newRig(t, halttest.Config())
	r.sup.AddStack(3)
	r.sup.Add("trading:stubborn", supervisor.ProcessRunning, halttest.IgnoreTerm)

	start := time.Now()
	res := r.e.Halt(context.Background(), fatalRequest())
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("killed after %v, before the 300ms verification deadline", took)
	}
	if !slices.Equal(res.Killed, []string{"trading:stubborn"}) {
		t.Errorf("Killed = %v, want [trading:stubborn]", res.Killed)
	}
	if !res.Done() || r.sup.State("trading:stubborn") != supervisor.ProcessStopped {
		t.Errorf("stubborn is %s, result %+v", r.sup.State("trading:stubborn"), res)
	}
	kills := r.logs.Audits(t, "kill")
	if len(kills) != 1 || kills[0]["process"] != "trading:stubborn" || kills[0]["method"] != "signalProcess" {
		t.Errorf("kill audit lines %v", kills)
	}
	if p := r.pager.all()[0]; !slices.Equal(p.Result.Killed, []string{"trading:stubborn"}) {
		t.Errorf("page does not name the killed process: %+v", p.Result)
	}
}

func TestHaltKillsByPIDWhenSignalProcessFails(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	r := newRig(t, halttest.Config())
	r.sup.AddStack(1)
	p := r.sup.Add("trading:stubborn", supervisor.ProcessRunning, halttest.IgnoreTerm)
	p.Info.PID = cmd.Process.Pid
	r.sup.SignalErr = &supervisor.Fault{Code: supervisor.FaultFailed, Name: "FAILED", Detail: "no such process"}

	res := r.e.Halt(context.Background(), fatalRequest())
	select {
	case err := <-waited:
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if ws.Signal() != syscall.SIGKILL {
			t.Errorf("sleep ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the process survived: kill(2) fallback not used")
	}
	kills := r.logs.Audits(t, "kill")
	if len(kills) != 1 || kills[0]["method"] != "kill(2)" {
		t.Errorf("kill audit lines %v, want one with method kill(2)", kills)
	}
	// The fake never learns that the process died: it is a survivor.
	if !slices.Equal(res.Survivors, []string{"trading:stubborn"}) {
		t.Errorf("Survivors = %v", res.Survivors)
	}
	if p := r.pager.all()[0]; p.Result.Done() || !slices.Equal(p.Result.Survivors, []string{"trading:stubborn"}) {
		t.Errorf("paged %+v, want the survivor", p.Result)
	}
}

func TestHaltRetriesUnreachableSupervisordAndPages(t *testing.T) {
	r := newRig(t, halttest.Config())
	targets := r.sup.AddStack(3)
	r.sup.FailCalls = 4

	res := r.e.Halt(context.Background(), fatalRequest())
	if !res.Done() || res.Attempts < 2 {
		t.Fatalf("result %+v: want done after retries", res)
	}
	for _, n := range targets {
		if s := r.sup.State(n); s != supervisor.ProcessStopped {
			t.Errorf("%s is %s", n, s)
		}
	}
	if n := len(r.logs.Audits(t, "halt_retry")); n < 2 {
		t.Errorf("%d halt_retry audit lines, want >= 2", n)
	}
	pages := r.pager.all()
	if len(pages) != 2 {
		t.Fatalf("%d pages, want the unreachable one and the result", len(pages))
	}
	if pages[0].Kind != halt.ReportUnreachable || pages[0].Err == nil || !strings.Contains(pages[0].Err.Error(), "connection refused") {
		t.Errorf("first page %s %v", pages[0].Kind, pages[0].Err)
	}
	if pages[0].Record.TraceID != pages[1].Record.TraceID {
		t.Errorf("pages have traces %q and %q: want one incident", pages[0].Record.TraceID, pages[1].Record.TraceID)
	}
	if pages[1].Kind != halt.ReportHalt || !pages[1].Result.Done() {
		t.Errorf("second page %s %+v", pages[1].Kind, pages[1].Result)
	}
}

func TestHaltKeepsRetryingUntilCancelled(t *testing.T) {
	r := newRig(t, halttest.Config())
	r.sup.AddStack(2)
	r.sup.FailCalls = 1 << 30
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	res := r.e.Halt(ctx, fatalRequest())
	if res.Done() || !strings.Contains(res.StopErrors["*"], "connection refused") {
		t.Errorf("result %+v: want not done, with the connection error", res)
	}
	if n := len(r.logs.Audits(t, "halt_retry")); n < 3 {
		t.Errorf("%d retries in 400ms, want several", n)
	}
	if pages := r.pager.all(); len(pages) != 2 || pages[1].Result == nil || pages[1].Result.Done() {
		t.Errorf("pages %v: want the unreachable page and an incomplete result", pages)
	}
}

func TestLatchWriteNeverDelaysTheStops(t *testing.T) {
	r := newRig(t, halttest.Config())
	targets := r.sup.AddStack(3)
	r.latch.Block = make(chan struct{})
	done := make(chan *halt.Result)
	go func() { done <- r.e.Halt(context.Background(), fatalRequest()) }()

	halttest.Eventually(t, "every target stopped while the latch write hangs", func() bool {
		for _, n := range targets {
			if r.sup.State(n) != supervisor.ProcessStopped {
				return false
			}
		}
		return true
	})
	st, err := r.e.Latched(context.Background())
	if err != nil || !st.Latched {
		t.Errorf("Latched = %+v, %v: the pending latch must count", st, err)
	}
	close(r.latch.Block)
	res := <-done
	r.e.Wait()
	if !res.Done() || res.LatchErr != nil || !r.latch.Current().Latched {
		t.Errorf("result %+v, latch %+v", res, r.latch.Current())
	}
}

func TestLatchWriteFailureIsPagedAndRetried(t *testing.T) {
	r := newRig(t, halttest.Config())
	r.sup.AddStack(2)
	r.latch.SetErrs = 2

	res := r.e.Halt(context.Background(), fatalRequest())
	if res.LatchErr == nil || !res.Done() {
		t.Fatalf("result %+v: want done with a latch error", res)
	}
	if p := r.pager.all()[0]; p.Result.LatchErr == nil || !strings.Contains(p.Result.LatchErr.Error(), "disk I/O error") {
		t.Errorf("paged latch error %v", p.Result.LatchErr)
	}
	st, _ := r.e.Latched(context.Background())
	if !st.Latched {
		t.Error("not latched while the write is retried")
	}
	r.e.Wait()
	if !r.latch.Current().Latched || r.latch.Sets != 3 {
		t.Errorf("latch %+v after %d writes, want written on the third", r.latch.Current(), r.latch.Sets)
	}
	if n := len(r.logs.Audits(t, "latch_failed")); n != 2 {
		t.Errorf("%d latch_failed audit lines, want 2", n)
	}
}

func TestHaltFallsBackWithoutMulticall(t *testing.T) {
	r := newRig(t, halttest.Config())
	targets := r.sup.AddStack(4)
	r.sup.NoMulticall = true
	r.e.Learn(r.sup.List(t))
	res := r.e.Halt(context.Background(), fatalRequest())
	if !res.Done() || len(res.Stopped) != len(targets) {
		t.Fatalf("result %+v", res)
	}
	r.sup.SetState(targets[0], supervisor.ProcessRunning)
	if res := r.e.Enforce(context.Background(), res.Record, []string{targets[0]}, "event"); !slices.Equal(res.Stopped, targets[:1]) {
		t.Fatalf("enforce stopped %v", res.Stopped)
	}
	if n := strings.Count(r.logs.String(), "system.multicall refused"); n != 1 {
		t.Errorf("multicall refused %d times: the engine must remember that it is unsupported", n)
	}
}

func TestHaltStopsTargetRestartedDuringVerification(t *testing.T) {
	r := newRig(t, halttest.Config())
	r.sup.AddStack(2)
	slow := r.sup.Add("trading:slow", supervisor.ProcessRunning)
	slow.StopDelay = 150 * time.Millisecond
	// Someone starts strat_00 again while the halt verifies.
	time.AfterFunc(50*time.Millisecond, func() { r.sup.SetState("trading:strat_00", supervisor.ProcessStarting) })
	res := r.e.Halt(context.Background(), fatalRequest())
	if !res.Done() || r.sup.State("trading:strat_00") != supervisor.ProcessStopped {
		t.Errorf("strat_00 %s, result %+v", r.sup.State("trading:strat_00"), res)
	}
	n := 0
	for _, s := range r.sup.StopCalls() {
		if s == "trading:strat_00" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("strat_00 stopped %d times, want 2", n)
	}
}

func TestHaltSupervisordShuttingDown(t *testing.T) {
	r := newRig(t, halttest.Config())
	r.sup.AddStack(1)
	r.sup.Add("trading:x", supervisor.ProcessRunning)
	sup := &shutdownSup{Supervisor: r.sup}
	e, err := halt.New(halttest.Config(), halt.Deps{Supervisor: sup, Latch: r.latch, Pager: r.pager, Logger: r.log})
	if err != nil {
		t.Fatal(err)
	}
	res := e.Halt(context.Background(), fatalRequest())
	if !res.SupervisorDown || res.Done() {
		t.Errorf("result %+v: want SupervisorDown", res)
	}
	if p := r.pager.all()[0]; !p.Result.SupervisorDown {
		t.Errorf("paged %+v, want SupervisorDown", p.Result)
	}
}

type shutdownSup struct{ *halttest.Supervisor }

func (s *shutdownSup) Multicall(_ context.Context, calls []supervisor.Call) ([]supervisor.CallResult, error) {
	out := make([]supervisor.CallResult, len(calls))
	for i := range out {
		out[i].Err = &supervisor.Fault{Code: supervisor.FaultShutdownState, Name: "SHUTDOWN_STATE"}
	}
	return out, nil
}

func TestVerifyTimeoutFromStopWaitSecs(t *testing.T) {
	tests := []struct {
		name       string
		configured time.Duration
		stopWaits  []int64
		noConfig   bool
		want       time.Duration
	}{
		{name: "configured wins", configured: 2 * time.Second, stopWaits: []int64{60}, want: 2 * time.Second},
		{name: "largest target stopwaitsecs plus margin", stopWaits: []int64{5, 30, 10}, want: 30*time.Second + halt.VerifyMargin},
		{name: "unreadable: supervisord default", noConfig: true, want: halt.DefaultStopWait + halt.VerifyMargin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := halttest.Config()
			cfg.VerifyTimeout = tt.configured
			r := newRig(t, cfg)
			p := r.sup.Add("risk_manager:risk_manager", supervisor.ProcessRunning)
			p.StopWait = 600 // not a target: ignored
			for i, w := range tt.stopWaits {
				r.sup.Add("trading:s"+string(rune('a'+i)), supervisor.ProcessRunning).StopWait = w
			}
			r.sup.NoMulticall = tt.noConfig
			if got := halt.VerifyTimeout(r.e, context.Background()); got != tt.want {
				t.Errorf("verifyTimeout = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnforceStopsTargetsStartedWhileLatched(t *testing.T) {
	r := newRig(t, halttest.Config())
	r.sup.AddStack(3)
	// Halted an hour ago: the enforcement's duration is its own.
	rec := halt.Record{Reason: "test", TraceID: "trace-1", Since: time.Now().Add(-time.Hour), By: "cli:alice"}
	r.latch.St = halt.LatchState{Latched: true, Record: rec}
	r.sup.SetState("trading:strat_00", supervisor.ProcessStopped)
	r.sup.SetState("trading:strat_02", supervisor.ProcessStopped)

	res := r.e.Enforce(context.Background(), rec, []string{"trading:strat_01"}, "event")
	if !slices.Equal(res.Stopped, []string{"trading:strat_01"}) {
		t.Errorf("Stopped = %v", res.Stopped)
	}
	if res.Duration >= time.Minute {
		t.Errorf("Duration = %s: measured from the original halt, not the enforcement", res.Duration)
	}
	pages := r.pager.all()
	if len(pages) != 1 || pages[0].Kind != halt.ReportEnforce || pages[0].Result != res || pages[0].Record.TraceID != "trace-1" {
		t.Fatalf("pages %+v", pages)
	}
	// Nothing to do: no page.
	r.e.Enforce(context.Background(), rec, nil, "tick")
	if n := len(r.pager.all()); n != 1 {
		t.Errorf("%d pages after an enforcement with nothing to stop", n)
	}
}

func TestFinishCompletesAnInterruptedHalt(t *testing.T) {
	tests := []struct {
		name         string
		running      bool // targets still running: the killed haltguard had not stopped them
		wantStopped  int
		wantFlattens int
	}{
		{name: "killed before the stops", running: true, wantStopped: 3, wantFlattens: 1},
		{name: "killed after the stops", running: false, wantStopped: 0, wantFlattens: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := halttest.Config()
			cfg.Flatten.Command = []string{"true"}
			r := newRig(t, cfg)
			targets := r.sup.AddStack(3)
			if !tt.running {
				for _, n := range targets {
					r.sup.SetState(n, supervisor.ProcessStopped)
				}
			}
			rec := halt.Record{Reason: "risk down", Trigger: "risk_manager:risk_manager", TriggerState: "FATAL", TraceID: "t-9", Since: time.Now()}
			r.latch.St = halt.LatchState{Latched: true, Record: rec}
			res := r.e.Finish(context.Background(), rec)
			if !res.Done() || !r.sup.AllStopped(targets) {
				t.Fatalf("result %+v", res)
			}
			p := r.pager.all()
			if len(p) != 1 || p[0].Kind != halt.ReportFinish || len(p[0].Result.Stopped) != tt.wantStopped || p[0].Record.TraceID != "t-9" {
				t.Errorf("pages %+v: want one finish with %d stopped and the original trace", p, tt.wantStopped)
			}
			if n := len(r.logs.Audits(t, "flatten")); n != tt.wantFlattens {
				t.Errorf("flatten ran %d times, want %d", n, tt.wantFlattens)
			}
			if r.latch.Current().Record.Completed.IsZero() {
				t.Error("not marked complete")
			}
		})
	}
}

func TestPauseAfterLatch(t *testing.T) {
	marker := t.TempDir() + "/paused"
	t.Setenv(halt.EnvTestPause, halt.PauseAfterLatch)
	t.Setenv(halt.EnvTestPauseFile, marker)
	r := newRig(t, halttest.Config())
	targets := r.sup.AddStack(2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *halt.Result)
	go func() { done <- r.e.Halt(ctx, fatalRequest()) }()
	halttest.Eventually(t, "the pause marker", func() bool { _, err := os.Stat(marker); return err == nil })
	if !r.latch.Current().Latched {
		t.Error("paused before the latch was recorded")
	}
	for _, n := range targets {
		if s := r.sup.State(n); s != supervisor.ProcessRunning {
			t.Errorf("%s is %s: stopped before the pause point", n, s)
		}
	}
	cancel()
	<-done
}

func TestResume(t *testing.T) {
	latched := halt.Record{Reason: "risk down", Trigger: "risk_manager:risk_manager", TriggerState: "FATAL", TraceID: "t-1", Since: time.Now()}
	tests := []struct {
		name        string
		riskState   supervisor.ProcessState
		opts        halt.ResumeOptions
		wantErr     string
		wantLatched bool
		wantPage    bool
		wantStarted int
		noMulticall bool
	}{
		{name: "refused while critical is down", riskState: supervisor.ProcessFatal, opts: halt.ResumeOptions{By: "alice", Start: true},
			wantErr: "a critical program is not RUNNING: risk_manager:risk_manager FATAL (fix it first, or --force)", wantLatched: true},
		{name: "clears and resolves", riskState: supervisor.ProcessRunning, opts: halt.ResumeOptions{By: "alice"},
			wantPage: true},
		{name: "starts the targets", riskState: supervisor.ProcessRunning, opts: halt.ResumeOptions{By: "alice", Start: true},
			wantPage: true, wantStarted: 3},
		{name: "starts the targets without multicall", riskState: supervisor.ProcessRunning, opts: halt.ResumeOptions{By: "alice", Start: true},
			wantPage: true, wantStarted: 3, noMulticall: true},
		{name: "forced while the trigger is down keeps the incident open", riskState: supervisor.ProcessFatal,
			opts: halt.ResumeOptions{By: "alice", Start: true, Force: true}, wantPage: true, wantStarted: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, halttest.Config())
			r.sup.AddStack(3)
			for _, n := range []string{"trading:strat_00", "trading:strat_01", "trading:strat_02"} {
				r.sup.SetState(n, supervisor.ProcessStopped)
			}
			r.sup.SetState("risk_manager:risk_manager", tt.riskState)
			r.sup.NoMulticall = tt.noMulticall
			r.latch.St = halt.LatchState{Latched: true, Record: latched}

			res, err := r.e.Resume(context.Background(), tt.opts)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := r.latch.Current().Latched; got != tt.wantLatched {
				t.Errorf("latched = %v, want %v", got, tt.wantLatched)
			}
			pages := r.pager.all()
			switch {
			case !tt.wantPage && len(pages) > 0:
				t.Errorf("unexpected pages %+v", pages)
			case tt.wantPage:
				if len(pages) != 1 || pages[0].Kind != halt.ReportResume || pages[0].Record != latched || pages[0].Resume != tt.opts ||
					!slices.Equal(pages[0].CriticalDown, res.CriticalDown) {
					t.Fatalf("pages %+v, want one resume of the halt", pages)
				}
			}
			if len(res.Started) != tt.wantStarted {
				t.Errorf("started %v, want %d", res.Started, tt.wantStarted)
			}
			if !tt.wantLatched && r.latch.Current().ResumedBy != "alice" {
				t.Errorf("resumed by %q", r.latch.Current().ResumedBy)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	r := newRig(t, halttest.Config())
	r.sup.AddStack(2)
	s, err := r.e.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Latch.Latched || len(s.Critical) != 1 || len(s.Targets) != 2 || s.SupervisorErr != nil {
		t.Errorf("status %+v", s)
	}
	r.sup.FailCalls = 1
	s, err = r.e.Status(context.Background())
	if err != nil || s.SupervisorErr == nil {
		t.Errorf("status %+v, %v: want the latch and a supervisord error", s, err)
	}
}

// A target another hand stops between the halt's listing and its stop (the
// running haltguard enforcing the latch an operator's halt just set) is
// reported as already down, not stopped, and the halt is done.
func TestHaltReportsTargetsStoppedByAnotherHand(t *testing.T) {
	r := newRig(t, halttest.Config())
	targets := r.sup.AddStack(3)
	r.sup.Proc(targets[1]).StoppedFirst = true
	res := r.e.Halt(context.Background(), fatalRequest())
	r.e.Wait()
	if !res.Done() || !slices.Equal(res.AlreadyDown, targets[1:2]) || slices.Contains(res.Stopped, targets[1]) || len(res.Stopped) != 2 {
		t.Errorf("stopped %v, already down %v, done %v", res.Stopped, res.AlreadyDown, res.Done())
	}
}
