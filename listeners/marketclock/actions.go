package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/calendar"
	"github.com/superguard/superguard/pkg/probe"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// procAction is a start or a stop of every process a phase's patterns
// select.
type procAction struct {
	verb   string                                                  // "start" or "stop"
	call   func(ctx context.Context, name string, wait bool) error // supervisord's startProcess or stopProcess
	done   int                                                     // the fault that means it was done already
	within time.Duration
	sev    alert.Severity // of a failure: a stop that fails leaves a strategy trading
}

func (e *engine) stopAction() procAction {
	return procAction{verb: "stop", call: e.sup.StopProcess, done: supervisor.FaultNotRunning, within: stopWithin, sev: alert.Critical}
}

// startAction: the latch was read clear just before it is used.
func (e *engine) startAction() procAction {
	return procAction{verb: "start", call: e.sup.StartProcess, done: supervisor.FaultAlreadyStarted, within: startWithin, sev: alert.Error}
}

// doProcs starts or stops the processes patterns select (names, when the
// catch-up resolved them already), all at once, recording the step; false
// when one failed. A step recorded finished before an interruption is
// not done again.
func (e *engine) doProcs(ctx context.Context, save func() error, rec *state.Phase, o occurrence, a procAction, patterns, names []string,
	list *procList) bool {
	name := a.verb + " " + strings.Join(patterns, ",")
	if s, ok := rec.Step(name); ok && s.Status != stepStarted {
		return s.Status == stepOK
	}
	e.stepStarted(save, rec, name)
	if names == nil {
		procs, err := list.get()
		if err != nil {
			return e.stepDone(save, rec, o, name, fmt.Errorf("cannot list processes: %w", err), a.sev)
		}
		names = resolve(procs, patterns)
	}
	errs := e.each(ctx, names, a.within, func(ctx context.Context, n string) error {
		if err := a.call(ctx, n, true); err != nil && !supervisor.IsFault(err, a.done) {
			return err
		}
		return nil
	})
	list.stale()
	return e.stepDone(save, rec, o, name, errs, a.sev, names...)
}

// doMode tells the strategies close-only or normal, as modes says.
func (e *engine) doMode(ctx context.Context, save func() error, rec *state.Phase, o occurrence, mode string,
	list *procList) bool {
	m := e.sec.Modes
	name := "mode " + mode
	if s, ok := rec.Step(name); ok && s.Status != stepStarted {
		return s.Status == stepOK
	}
	e.stepStarted(save, rec, name)
	sev := alert.Error
	if mode == sections.ModeCloseOnly {
		sev = alert.Critical // a strategy that keeps opening positions into the close
	}
	if m.Via == sections.ViaCommand {
		argv := m.CloseOnlyCommand
		if mode == sections.ModeNormal {
			argv = m.NormalCommand
		}
		cctx, cancel := context.WithTimeout(ctx, m.Timeout)
		out, err := probe.Run(cctx, argv, e.env(o, "MARKETCLOCK_MODE="+mode), probe.Process{})
		cancel()
		if err != nil {
			err = fmt.Errorf("%s: %w: %s", argv[0], err, strings.TrimSpace(e.redact(out)))
		}
		return e.stepDone(save, rec, o, name, err, sev)
	}
	procs, err := list.get()
	if err != nil {
		return e.stepDone(save, rec, o, name, fmt.Errorf("cannot list processes: %w", err), sev)
	}
	var running []string
	for _, p := range procs {
		if p.State == supervisor.ProcessRunning && procmatch.Any(m.Processes, p.GroupName(), p.Name) {
			running = append(running, p.FullName())
		}
	}
	value := m.CloseOnly
	if mode == sections.ModeNormal {
		value = m.Normal
	}
	errs := e.each(ctx, running, callWithin, func(ctx context.Context, n string) error {
		if m.Via == sections.ViaSignal {
			sig, _ := supervisor.ParseSignal(value)
			return e.sup.SignalProcess(ctx, n, sig)
		}
		return e.sup.SendProcessStdin(ctx, n, value+"\n")
	})
	return e.stepDone(save, rec, o, name, errs, sev, running...)
}

// doRun runs a phase's command. A command found started but not finished
// (the listener died while it ran) is not run again: it may have done its
// work; a person is told.
func (e *engine) doRun(ctx context.Context, save func() error, rec *state.Phase, o occurrence, c sections.Command) bool {
	name := "run " + c.Name
	if s, ok := rec.Step(name); ok {
		if s.Status != stepStarted {
			return s.Status == stepOK
		}
		err := fmt.Errorf("interrupted at %s (the listener stopped while it ran): not run again; run it by hand if it must", s.At.Format(time.TimeOnly))
		e.stepDone(save, rec, o, name, err, alert.Warning)
		return false
	}
	e.stepStarted(save, rec, name)
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	out, err := probe.Run(cctx, c.Argv, e.env(o), probe.Process{})
	cancel()
	out = strings.TrimSpace(e.redact(out))
	if err != nil {
		err = fmt.Errorf("%w: %s", err, out)
	}
	ok := e.stepDone(save, rec, o, name, err, alert.Error)
	if ok && out != "" {
		s, _ := rec.Step(name)
		s.Detail = clip(out, 2000)
		rec.SetStep(s)
		_ = saveIf(save)
	}
	return ok
}

func saveIf(save func() error) error {
	if save == nil {
		return nil
	}
	return save()
}

// env is a command's environment: the listener's (no secrets) and the
// phase's.
func (e *engine) env(o occurrence, extra ...string) []string {
	ph := o.phase(e.plan)
	return append(append(append([]string{}, e.cmdEnv...),
		"MARKETCLOCK_EXCHANGE="+e.plan.cal.X.Code,
		"MARKETCLOCK_DAY="+o.day.Date.String(),
		"MARKETCLOCK_DAY_KIND="+string(o.day.Kind),
		"MARKETCLOCK_PHASE="+ph.Name,
		"MARKETCLOCK_DUE="+o.at.Format(time.RFC3339),
		"MARKETCLOCK_SESSION="+e.sessionAt(e.now())), extra...)
}

// each calls fn for every name at once (bounded), each within timeout,
// and joins the failures, naming the process.
func (e *engine) each(ctx context.Context, names []string, timeout time.Duration, fn func(ctx context.Context, name string) error) error {
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, n := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			err := fn(cctx, n)
			cancel()
			if err != nil {
				mu.Lock()
				failed = append(failed, n+": "+err.Error())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) == 0 {
		return nil
	}
	sort.Strings(failed)
	return fmt.Errorf("%s", strings.Join(failed, "; "))
}

// stepStarted records that step name begins.
func (e *engine) stepStarted(save func() error, rec *state.Phase, name string) {
	rec.SetStep(state.PhaseStep{Name: name, Status: stepStarted, At: e.now()})
	_ = saveIf(save)
}

// stepDone records how step name ended, alerting at sev when it failed;
// it reports success.
func (e *engine) stepDone(save func() error, rec *state.Phase, o occurrence, name string, err error, sev alert.Severity, procs ...string) bool {
	if e.killed(name) {
		return false
	}
	s := state.PhaseStep{Name: name, Status: stepOK, At: e.now()}
	if len(procs) > 0 {
		s.Detail = strings.Join(procs, ",")
	} else if strings.HasPrefix(name, "stop ") || strings.HasPrefix(name, "start ") {
		s.Detail = "no process matched"
	}
	if err != nil {
		s.Status, s.Detail = stepFailed, clip(e.redact(err.Error()), 2000)
		e.log.Error().Str("phase", rec.Phase).Str("step", name).Str("error", s.Detail).Msg("phase step failed")
		e.send(context.Background(), e.phaseAlert(o, sev, fmt.Sprintf("phase %s: %s failed", rec.Phase, name), s.Detail, map[string]string{"step": name}))
	}
	rec.SetStep(s)
	_ = saveIf(save)
	return err == nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// advanceChecks begins o's checks or tries them again when due, records
// the verdict, and alerts when they failed by their deadline.
func (e *engine) advanceChecks(ctx context.Context, rec *state.Phase, o occurrence, list *procList, save func() error) error {
	c := o.phase(e.plan).Checks
	now := e.now()
	if rec.Checks == "" && e.missed(o) && o.day.Date.Before(calendar.DateIn(now, e.plan.loc())) {
		// A past day's checks gate nothing worth starting now: not run,
		// and counted failed (what they gate starts nothing), quietly.
		rec.Checks = checksFailed
		rec.SetStep(state.PhaseStep{Name: "checks", Status: stepSkipped, Detail: "missed on a past day: not run; what they gate starts nothing", At: now})
		return save()
	}
	if rec.Checks == "" {
		rec.Checks, rec.Status = checksRunning, statusChecking
		rec.Deadline = o.at.Add(e.within(o))
		if late := now.Add(e.within(o)); e.missed(o) && late.After(rec.Deadline) {
			rec.Deadline = late // a missed check gets its whole time from now
		}
		rec.NextCheck = now
	}
	if now.Before(rec.NextCheck) {
		return nil
	}
	failed := e.evalChecks(ctx, rec, o, c, list)
	switch {
	case len(failed) == 0:
		rec.Checks = checksPassed
		if rec.Status == statusChecking {
			rec.Status = ""
		}
		e.log.Info().Str("phase", rec.Phase).Msg("checks passed")
	case !e.now().Before(rec.Deadline):
		rec.Checks = checksFailed
		if rec.Status == statusChecking {
			rec.Status = ""
		}
		why := strings.Join(failed, "; ")
		e.log.Error().Str("phase", rec.Phase).Str("failed", why).Msg("checks failed: what they gate will not start")
		var gated []string
		for _, p := range e.plan.phases {
			if p.Requires == rec.Phase || (p.Name == rec.Phase && (len(p.Start) > 0 || p.Mode == sections.ModeNormal || len(p.Run) > 0)) {
				gated = append(gated, p.Name)
			}
		}
		e.send(ctx, e.phaseAlert(o, alert.Critical, fmt.Sprintf("pre-open checks of %s failed: %s", rec.Phase, clip(why, 300)),
			"trading is not started: phase(s) "+strings.Join(gated, ", ")+" will refuse their starts", map[string]string{"failed_checks": why}))
	default:
		rec.NextCheck = e.now().Add(c.Retry)
	}
	return save()
}

// within is o's checks' deadline from its time: as configured, else until
// the first phase that requires it, else 5m.
func (e *engine) within(o occurrence) time.Duration {
	ph := o.phase(e.plan)
	if ph.Checks.Within > 0 {
		return ph.Checks.Within
	}
	best := time.Duration(0)
	for i, p := range e.plan.phases {
		if p.Requires != ph.Name {
			continue
		}
		if at, ok := e.plan.times[i].On(o.day, e.plan.loc()); ok && at.After(o.at) && (best == 0 || at.Sub(o.at) < best) {
			best = at.Sub(o.at)
		}
	}
	return cmp.Or(best, sections.DefaultChecksWithin)
}

// evalChecks runs every check once, recording each; it returns the
// failures ("check NAME: why").
func (e *engine) evalChecks(ctx context.Context, rec *state.Phase, o occurrence, c *sections.Checks, list *procList) []string {
	var failed []string
	record := func(name string, err error) {
		s := state.PhaseStep{Name: name, Status: stepOK, At: e.now()}
		if err != nil {
			s.Status, s.Detail = stepFailed, clip(e.redact(err.Error()), 2000)
			failed = append(failed, name+": "+s.Detail)
		}
		rec.SetStep(s)
	}
	if len(c.Running) > 0 {
		record("check running", e.checkRunning(c.Running, list))
	}
	for _, name := range c.Healthy {
		record("check healthy "+name, e.checkHealthy(name))
	}
	results := make([]error, len(c.Commands))
	var wg sync.WaitGroup
	for i, cmd := range c.Commands {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, cmd.Timeout)
			out, err := probe.Run(cctx, cmd.Argv, e.env(o), probe.Process{})
			cancel()
			if err != nil {
				results[i] = fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
			}
		})
	}
	wg.Wait()
	for i, cmd := range c.Commands {
		record("check "+cmd.Name, results[i])
	}
	return failed
}

// checkRunning fails unless every process the patterns select is RUNNING
// (and they select one).
func (e *engine) checkRunning(patterns []string, list *procList) error {
	procs, err := list.get()
	if err != nil {
		return fmt.Errorf("cannot read supervisord: %w", err)
	}
	var bad []string
	n := 0
	for _, pat := range patterns {
		matched := resolve(procs, []string{pat})
		if len(matched) == 0 {
			bad = append(bad, pat+" matches no process")
		}
		n += len(matched)
	}
	for _, p := range procs {
		if procmatch.Any(patterns, p.GroupName(), p.Name) && p.State != supervisor.ProcessRunning {
			bad = append(bad, p.FullName()+" is "+p.State.String())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, ", "))
	}
	return nil
}

// healthFresh is how old healthprobe's status may be for a healthy check
// to count.
const healthFresh = time.Minute

// checkHealthy fails unless healthprobe's status, written within a minute,
// shows check name healthy on every process it watches (and on one).
func (e *engine) checkHealthy(name string) error {
	b, err := os.ReadFile(e.healthStatus)
	if err != nil {
		return fmt.Errorf("healthprobe's status unreadable: %w", err)
	}
	var st struct {
		Written time.Time `json:"written"`
		Targets []struct {
			Check, Process, State, Evidence string
		} `json:"targets"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("healthprobe's status: %w", err)
	}
	if age := e.now().Sub(st.Written); age > healthFresh {
		return fmt.Errorf("healthprobe's status is %s old: is healthprobe running?", age.Round(time.Second))
	}
	n := 0
	var bad []string
	for _, t := range st.Targets {
		if t.Check != name {
			continue
		}
		n++
		if t.State != "healthy" {
			bad = append(bad, fmt.Sprintf("%s is %s (%s)", t.Process, t.State, t.Evidence))
		}
	}
	switch {
	case n == 0:
		return fmt.Errorf("healthprobe watches no process with check %q", name)
	case len(bad) > 0:
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}
