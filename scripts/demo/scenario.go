package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Generous bounds: the demo must also finish on a loaded machine. Each
// detection takes a few seconds by configuration (5 s probe and sample
// periods), so these only catch a stack that does not react at all.
const (
	reactWithin = 60 * time.Second
	alertWithin = 30 * time.Second
)

// scenario plays the steps against a running stack.
type scenario struct {
	st      *stack
	tl      *timeline
	al      *alerts
	figures [][2]string // what was measured, for the closing table
	failed  []string
}

// step is one act of the story.
type step struct {
	title string
	needs []string // listeners it shows; skipped when one is not built
	run   func(ctx context.Context) error
}

func (sc *scenario) steps() []step {
	return []step{
		{"a strategy's feed freezes (trading:momentum)", []string{"healthprobe"}, sc.freeze},
		{"a strategy hangs (trading:mean_revert)", []string{"healthprobe"}, sc.hang},
		{"a strategy leaks memory (trading:market_maker)", []string{"memguard"}, sc.leak},
		{"a strategy crash-loops (trading:stat_arb)", []string{"crashpager"}, sc.crashLoop},
		{"the risk manager dies", []string{"haltguard"}, sc.halt},
		{"an operator starts a strategy while trading is halted", []string{"haltguard"}, sc.refused},
		{"haltguard resume --start", []string{"haltguard"}, sc.resume},
		{"the stack is healthy again", nil, sc.healthy},
	}
}

// play runs the steps; a failed step is reported and the story goes on.
func (sc *scenario) play(ctx context.Context, steps []step) {
	for i, s := range steps {
		if ctx.Err() != nil {
			return
		}
		sc.tl.step(i+1, len(steps), "%s", s.title)
		if missing := slices.DeleteFunc(slices.Clone(s.needs), sc.st.has); len(missing) > 0 {
			sc.tl.skip("skipped: %s is not built yet (no listeners/%s), so nothing here would react", missing[0], missing[0])
			continue
		}
		if err := s.run(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			sc.tl.fail("%v", err)
			sc.failed = append(sc.failed, s.title)
		}
	}
}

func (sc *scenario) figure(what string, d time.Duration, how string) {
	sc.figures = append(sc.figures, [2]string{what, seconds(d) + "  " + how})
}

// pid returns the process's pid (0 when not running).
func (sc *scenario) pid(ctx context.Context, name string) (int, error) {
	p, err := sc.st.client.GetProcessInfo(ctx, name)
	if err != nil {
		return 0, err
	}
	if p.State != supervisor.ProcessRunning {
		return 0, fmt.Errorf("%s is %s, not RUNNING", name, p.StateName)
	}
	return p.PID, nil
}

// restarted waits until name runs under a pid other than old.
func (sc *scenario) restarted(ctx context.Context, name string, old int) (int, error) {
	var now int
	err := sc.st.until(ctx, reactWithin, name+" to be restarted", func() (bool, string) {
		p, err := sc.st.client.GetProcessInfo(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		now = p.PID
		return p.State == supervisor.ProcessRunning && p.PID != old, p.StateName
	})
	return now, err
}

// signalled sends sig to name and waits for a guard to restart it,
// raising an alert with one of conds; it returns the time from the signal
// to the new process.
func (sc *scenario) signalled(ctx context.Context, name, sig, by string, conds ...alert.Condition) (time.Duration, error) {
	old, err := sc.pid(ctx, name)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := sc.st.client.SignalProcess(ctx, name, sig); err != nil {
		return 0, err
	}
	if _, ok := sc.al.wait(ctx, reactWithin, t0, about(name, conds...)); !ok {
		return 0, fmt.Errorf("no %s alert about %s within %s", joinConds(conds), name, seconds(reactWithin))
	}
	pid, err := sc.restarted(ctx, name, old)
	if err != nil {
		return 0, err
	}
	d := time.Since(t0)
	sc.tl.ok("%s restarted %s %s after the signal (pid %d -> %d)", by, name, seconds(d), old, pid)
	return d, nil
}

func joinConds(conds []alert.Condition) string {
	var s []string
	for _, c := range conds {
		s = append(s, string(c))
	}
	return strings.Join(s, " or ")
}

func (sc *scenario) freeze(ctx context.Context) error {
	sc.tl.info("SIGTTIN: momentum's last_tick stops moving; its /health still answers 200 \"healthy\"")
	sc.tl.info("healthprobe probes /health every 5 s and fails data older than max_age 3s")
	d, err := sc.signalled(ctx, "trading:momentum", "TTIN", "healthprobe", alert.CondStale, alert.CondHealth)
	if err == nil {
		sc.figure("frozen feed -> restart", d, "healthprobe: stale last_tick (max_age 3s, probe every 5s)")
	}
	return err
}

func (sc *scenario) hang(ctx context.Context) error {
	sc.tl.info("SIGUSR2: mean_revert stops answering; /health blocks, its heartbeats stop")
	d, err := sc.signalled(ctx, "trading:mean_revert", "USR2", "healthprobe", alert.CondHealth, alert.CondStale)
	if err == nil {
		sc.figure("hung strategy -> restart", d, "healthprobe: /health timeout (2s, probe every 5s)")
	}
	return err
}

func (sc *scenario) leak(ctx context.Context) error {
	sc.tl.info("SIGTTOU: market_maker starts leaking 64 MiB/s; its limit is 160 MiB (tree_rss)")
	d, err := sc.signalled(ctx, "trading:market_maker", "TTOU", "memguard", alert.CondMemory, alert.CondLeak)
	if err == nil {
		sc.figure("memory leak -> restart", d, "memguard: above 160MiB (sampled every 5s)")
	}
	return err
}

func (sc *scenario) crashLoop(ctx context.Context) error {
	const name, crashes = "trading:stat_arb", 4
	sc.tl.info("stat_arb crashes %d times in a row (SIGKILL); supervisord restarts it each time", crashes)
	t0 := time.Now()
	for i := 1; i <= crashes; i++ {
		old, err := sc.pid(ctx, name)
		if err != nil {
			return err
		}
		if err := sc.st.client.SignalProcess(ctx, name, "KILL"); err != nil {
			return err
		}
		pid, err := sc.restarted(ctx, name, old)
		if err != nil {
			return err
		}
		sc.tl.info("crash %d: pid %d killed, supervisord restarted it as %d", i, old, pid)
	}
	spree, ok := sc.al.wait(ctx, alertWithin, t0, about(name, alert.CondSpree))
	if !ok {
		return fmt.Errorf("no spree alert about %s within %s", name, seconds(alertWithin))
	}
	d := spree.Time.Sub(t0)
	// Every crash is in the incident ledger; one notification carried them.
	var counted int
	_ = sc.st.until(ctx, alertWithin, "the incident ledger to count every crash", func() (bool, string) {
		incs, err := sc.st.store.OpenIncidents(ctx)
		if err != nil {
			return false, err.Error()
		}
		for _, inc := range incs {
			if inc.Alert.Process() == name && inc.Alert.Condition == alert.CondExited {
				counted = inc.Count
			}
		}
		return counted >= crashes, fmt.Sprintf("%d counted", counted)
	})
	sc.al.mu.Lock()
	var exitedTriggers int
	for _, s := range sc.al.seen {
		if !s.Time.Before(t0) && s.Process() == name && s.Condition == alert.CondExited && s.Kind == alert.Trigger {
			exitedTriggers++
		}
	}
	sc.al.mu.Unlock()
	sc.tl.ok("%d crashes -> %d crash notification(s) (the incident counts %d) and one critical spree alert, %s after the first crash",
		crashes, exitedTriggers, counted, seconds(d))
	sc.figure("crash loop -> spree alert", d, fmt.Sprintf("crashpager: %d exits within 2m, aggregated", crashes))
	return nil
}

// tradingStopped reports whether every process of the trading group is
// down, and the ones that are not.
func tradingStopped(procs map[string]supervisor.ProcessInfo) (bool, string) {
	var up []string
	for name, p := range procs {
		if p.Group != "trading" {
			continue
		}
		switch p.State {
		case supervisor.ProcessStopped, supervisor.ProcessExited, supervisor.ProcessFatal:
		default:
			up = append(up, name+" "+p.StateName)
		}
	}
	slices.Sort(up)
	return len(up) == 0, strings.Join(up, ", ")
}

func (sc *scenario) halt(ctx context.Context) error {
	sc.tl.info("SIGKILL to risk_manager: trading without risk checks must stop now")
	t0 := time.Now()
	if err := sc.st.client.SignalProcess(ctx, "risk_manager", "KILL"); err != nil {
		return err
	}
	// Poll tightly: this is the figure that matters.
	deadline := time.Now().Add(reactWithin)
	for {
		procs, err := sc.st.processes(ctx)
		if err == nil {
			if done, _ := tradingStopped(procs); done {
				break
			}
		}
		if time.Now().After(deadline) {
			_, up := tradingStopped(procs)
			return fmt.Errorf("the trading group was not stopped within %s (still up: %s)", seconds(reactWithin), up)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	d := time.Since(t0)
	sc.tl.ok("haltguard stopped the trading group (%d strategies) %s after the risk manager died",
		len(sc.st.data.Strategies), seconds(d))
	page, ok := sc.al.wait(ctx, alertWithin, t0, about("", alert.CondHalt))
	if !ok {
		return fmt.Errorf("no halt alert within %s", seconds(alertWithin))
	}
	if ms := page.Details["halt_duration_ms"]; ms != "" {
		sc.tl.info("haltguard's own measure, first stop to last target down: %s ms", ms)
	}
	h, err := sc.st.store.Halt(ctx)
	if err != nil {
		return err
	}
	if !h.Latched {
		return errors.New("the halt latch is not set")
	}
	sc.tl.ok("halt latch on: %s", oneLine(h.Reason, 100))
	sc.figure("risk manager death -> trading group stopped", d, "haltguard: first EXITED of a critical program")
	return nil
}

func (sc *scenario) refused(ctx context.Context) error {
	const name = "trading:momentum"
	sc.tl.info("supervisorctl start %s", name)
	err := sc.st.client.StartProcess(ctx, name, true)
	if err == nil {
		return fmt.Errorf("supervisord started %s while trading is halted", name)
	}
	sc.tl.ok("refused: %v", err)
	if tail, terr := sc.st.client.TailProcessStderrLog(ctx, name, 0, 4096); terr == nil {
		lines := strings.Split(strings.TrimSpace(tail.Data), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.Contains(lines[i], "halt") {
				sc.tl.info("the gate in front of the strategy said: %s", oneLine(lines[i], 120))
				break
			}
		}
	}
	// supervisord retries the start (startretries) and gives up: FATAL.
	return sc.st.until(ctx, reactWithin, name+" to settle", func() (bool, string) {
		p, err := sc.st.client.GetProcessInfo(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		switch p.State {
		case supervisor.ProcessFatal, supervisor.ProcessExited, supervisor.ProcessStopped:
			sc.tl.ok("%s is %s: it never ran while halted", name, p.StateName)
			return true, ""
		}
		return false, p.StateName
	})
}

func (sc *scenario) resume(ctx context.Context) error {
	if err := sc.st.until(ctx, reactWithin, "risk_manager to run again", func() (bool, string) {
		_, err := sc.pid(ctx, "risk_manager")
		return err == nil, errText(err)
	}); err != nil {
		return err
	}
	argv := []string{filepath.Join(sc.st.data.Bin, "haltguard"), "resume", "--start", "--by", "demo", "-config", sc.st.config}
	sc.tl.info("risk_manager is RUNNING again; the operator runs: haltguard resume --start --by demo")
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = demoEnv(nil)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	for line := range strings.Lines(out.String()) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "{") {
			sc.tl.info("| %s", oneLine(line, 120))
		}
	}
	if err != nil {
		return fmt.Errorf("haltguard resume: %w", err)
	}
	if err := sc.st.until(ctx, reactWithin, "the trading group to run", func() (bool, string) {
		procs, err := sc.st.processes(ctx)
		if err != nil {
			return false, err.Error()
		}
		var down []string
		for name, p := range procs {
			if p.Group == "trading" && p.State != supervisor.ProcessRunning {
				down = append(down, name+" "+p.StateName)
			}
		}
		return len(down) == 0, strings.Join(down, ", ")
	}); err != nil {
		return err
	}
	d := time.Since(t0)
	sc.tl.ok("latch cleared and the trading group RUNNING %s after the command", seconds(d))
	sc.figure("resume -> trading group running", d, "haltguard resume --start")
	return nil
}

func (sc *scenario) healthy(ctx context.Context) error {
	t0 := time.Now()
	if err := sc.st.allRunning(ctx, reactWithin); err != nil {
		return err
	}
	if err := sc.st.allHealthy(ctx, reactWithin, t0); err != nil {
		return err
	}
	h, err := sc.st.store.Halt(ctx)
	if err != nil {
		return err
	}
	if h.Latched {
		return errors.New("the halt latch is still set")
	}
	what := "every program RUNNING"
	if sc.st.has("healthprobe") {
		what += ", every probe healthy"
	}
	sc.tl.ok("%s, halt latch clear (%s)", what, seconds(time.Since(t0)))
	return nil
}
