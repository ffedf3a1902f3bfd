package halt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/backoff"
	"github.com/superguard/superguard/pkg/supervisor"
)

// tailBytes is how much of the trigger's stderr log a page carries.
const tailBytes = 4096

// Deps are the engine's collaborators.
type Deps struct {
	Supervisor Supervisor
	Latch      Latch
	Pager      Pager
	Logger     zerolog.Logger
	Now        func() time.Time // default time.Now
	// Redact removes every secret the listener knows of from a text
	// captured from outside (the flatten command's output) before it is
	// logged or paged. Nil: texts are kept as they are.
	Redact func(string) string
}

// Engine carries out halts, keeps the latch enforced and resumes, against
// one supervisord. It is safe for concurrent use.
type Engine struct {
	cfg    Config
	sup    Supervisor
	latch  Latch
	pager  Pager
	log    zerolog.Logger
	now    func() time.Time
	fan    *supervisor.Fanout
	redact func(string) string

	mu         sync.Mutex
	targets    []string      // target names from the last process list (nil: unknown)
	stopWait   time.Duration // largest stopwaitsecs of the targets (0: unknown)
	stopWaitAt time.Time
	pending    *Record // a latch not yet written to the store

	bg sync.WaitGroup // background latch writers
}

// New returns an Engine. cfg must be valid (Config.Validate).
func New(cfg Config, d Deps) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Supervisor == nil || d.Latch == nil || d.Pager == nil {
		return nil, errors.New("halt: supervisor, latch and pager are required")
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	redact := d.Redact
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &Engine{cfg: cfg, sup: d.Supervisor, latch: d.Latch, pager: d.Pager, log: d.Logger, now: now,
		fan: supervisor.NewFanout(d.Supervisor, callTimeout, d.Logger), redact: redact}, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Learn records which processes are targets, from a fresh process list, so
// that a halt can send its stops before reading the list again.
func (e *Engine) Learn(procs []supervisor.ProcessInfo) {
	names := make([]string, 0, len(procs))
	for _, p := range procs {
		if e.cfg.IsTarget(p) {
			names = append(names, p.FullName())
		}
	}
	e.mu.Lock()
	e.targets = names
	e.mu.Unlock()
}

func (e *Engine) cachedTargets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.targets)
}

// Wait waits for background latch writes, which retry until they succeed,
// the latch is cleared or ctx of the halt that started them ends.
func (e *Engine) Wait() { e.bg.Wait() }

// Latched returns the latch: the one this engine has not managed to write
// yet, else the store's.
func (e *Engine) Latched(ctx context.Context) (LatchState, error) {
	e.mu.Lock()
	p := e.pending
	e.mu.Unlock()
	st, err := e.latch.Get(ctx)
	if p != nil {
		// The store does not have it yet (or lost it): the halt stands.
		return LatchState{Latched: true, Record: *p, ResumedAt: st.ResumedAt, ResumedBy: st.ResumedBy}, nil
	}
	return st, err
}

// newRecord fills in the latch record of a request.
func (e *Engine) newRecord(req Request) Record {
	rec := Record{
		Reason:  req.Reason,
		Trigger: req.Trigger.Process,
		By:      req.By,
		TraceID: req.TraceID,
		Since:   req.Time,
	}
	if rec.Trigger != "" {
		rec.TriggerState = req.Trigger.State.String()
	}
	if rec.TraceID == "" {
		rec.TraceID = alert.NewTraceID()
	}
	if rec.Since.IsZero() {
		rec.Since = e.now()
	}
	if rec.By == "" {
		rec.By = "unknown"
	}
	if rec.Reason == "" {
		rec.Reason = "halt requested"
	}
	return rec
}

// Halt halts trading: it records the latch (concurrently: a slow or broken
// store never delays the stops), stops every target at once, runs the
// flatten command, verifies that every target stopped within the deadline
// (SIGKILL for survivors) and pages. When supervisord cannot be reached it
// pages that, and keeps retrying until ctx ends.
func (e *Engine) Halt(ctx context.Context, req Request) *Result {
	rec, source, onLatch := e.newRecord(req), req.Trigger.Source, req.OnLatch
	audit(e.log, zerolog.WarnLevel, rec.TraceID, "halt").Str("reason", rec.Reason).Str("trigger", rec.Trigger).
		Str("trigger_state", rec.TriggerState).Str("by", rec.By).Str("source", source).Msg("audit")
	latched := e.writeLatch(ctx, rec, onLatch)
	if pauseEnabled() {
		err := <-latched
		latched = closedErr(err)
		if err == nil {
			if err := pauseAfterLatch(ctx, e.log, rec.TraceID); err != nil {
				return &Result{Record: rec, StopErrors: map[string]string{"*": err.Error()}}
			}
		}
	}
	res := e.carryOut(ctx, rec, nil, flattenAlways, rec.Since)
	res.LatchErr = <-latched
	e.finish(ctx, res, ReportHalt)
	return res
}

// Finish completes the halt of a latch found on start-up: a haltguard killed
// mid-halt may have left targets running and the page unsent. When it has
// to stop targets (they ran after all), it runs the flatten command and
// pages what it did; when everything was already down it re-submits the
// original halt page (same SourceID), which the pipeline drops if it was
// already committed.
func (e *Engine) Finish(ctx context.Context, rec Record) *Result {
	audit(e.log, zerolog.WarnLevel, rec.TraceID, "halt_resume_after_restart").Str("reason", rec.Reason).
		Str("trigger", rec.Trigger).Time("since", rec.Since).Msg("audit")
	res := e.carryOut(ctx, rec, nil, flattenIfStopped, rec.Since)
	e.finish(ctx, res, ReportFinish)
	return res
}

// Enforce stops targets found running while trading is halted (an
// autostart after a reload, a person's start, another tool) and pages
// what it stopped. names are the live targets; nil means every target.
func (e *Engine) Enforce(ctx context.Context, rec Record, names []string, source string) *Result {
	audit(e.log, zerolog.WarnLevel, rec.TraceID, "enforce").Strs("processes", names).Str("source", source).Msg("audit")
	// Timed from now: the halt the latch records may be hours old.
	res := e.carryOut(ctx, rec, names, flattenNever, e.now())
	if len(res.Stopped)+len(res.Killed)+len(res.Survivors)+len(res.StopErrors) > 0 || res.SupervisorDown {
		e.finish(ctx, res, ReportEnforce)
	}
	return res
}

// flattenMode says when carryOut runs the flatten command.
type flattenMode int

const (
	flattenNever     flattenMode = iota
	flattenAlways                // a new halt
	flattenIfStopped             // finishing a halt: only if targets had to be stopped
)

// carryOut stops the targets (names, or all of them when nil), runs the
// flatten command as mode says, and verifies; Result.Duration runs from
// start.
func (e *Engine) carryOut(ctx context.Context, rec Record, names []string, mode flattenMode, start time.Time) *Result {
	res := &Result{Record: rec, StopErrors: map[string]string{}}
	if names == nil {
		names = e.cachedTargets()
	}
	retry := newBackoff()
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		var unreachable error
		shutdown := false
		if len(names) == 0 {
			procs, err := e.ListProcesses(ctx)
			if err != nil {
				unreachable = err
			}
			for _, p := range procs {
				if e.cfg.IsTarget(p) && Live(p.State) {
					names = append(names, p.FullName())
				}
			}
		}
		if unreachable == nil {
			unreachable, shutdown = e.stopRound(ctx, rec, names, res)
		}
		if shutdown {
			res.SupervisorDown = true
			audit(e.log, zerolog.WarnLevel, rec.TraceID, "supervisor_shutdown").Msg("audit")
			return res
		}
		if unreachable == nil {
			break
		}
		audit(e.log, zerolog.ErrorLevel, rec.TraceID, "halt_retry").Int("attempt", attempt).Err(unreachable).Msg("audit")
		if attempt == 1 {
			e.pager.Page(ctx, Report{Kind: ReportUnreachable, Record: rec, Time: e.now(), Err: unreachable})
		}
		if !backoff.Sleep(ctx, retry.Next()) {
			res.StopErrors["*"] = fmt.Sprintf("supervisord unreachable: %v", unreachable)
			return res
		}
		names = nil // the process list may have changed meanwhile
		clear(res.StopErrors)
	}

	var wg sync.WaitGroup
	flatten := mode == flattenAlways || mode == flattenIfStopped && len(res.Stopped) > 0
	if flatten && len(e.cfg.Flatten.Command) > 0 {
		wg.Go(func() { res.Flatten = e.flatten(ctx, rec) })
	}
	e.verify(ctx, rec, res, e.now().Add(e.verifyTimeout(ctx)))
	res.Duration = e.now().Sub(start)
	if rec.Trigger != "" {
		// Only now: while the targets stop, supervisord has better things
		// to do than read a log file for the page.
		res.TriggerTail = e.stderrTail(ctx, rec.Trigger)
	}
	wg.Wait()
	return res
}

// finish pages a result and marks a successful halt complete.
func (e *Engine) finish(ctx context.Context, res *Result, kind ReportKind) {
	rec := res.Record
	lvl := zerolog.InfoLevel
	if !res.Done() {
		lvl = zerolog.ErrorLevel
	}
	action := "halt_done"
	if kind == ReportEnforce {
		action = "enforce_done"
	}
	audit(e.log, lvl, rec.TraceID, action).Strs("stopped", res.Stopped).Strs("killed", res.Killed).
		Strs("survivors", res.Survivors).Interface("stop_errors", res.StopErrors).
		Dur("duration", res.Duration).AnErr("latch_error", res.LatchErr).Msg("audit")
	e.pager.Page(ctx, Report{Kind: kind, Record: rec, Time: e.now(), Result: res})
	if kind != ReportEnforce && res.Done() && res.LatchErr == nil {
		if err := e.latch.Complete(ctx, rec.TraceID, e.now()); err != nil {
			e.log.Error().Err(err).Str("trace_id", rec.TraceID).Msg("mark halt complete")
		}
	}
}

// writeLatch records rec in the store in the background, retrying until it
// succeeds; until then the engine keeps it as pending. The channel (and
// onFirst, when not nil) gets the first attempt's error.
func (e *Engine) writeLatch(ctx context.Context, rec Record, onFirst func(error)) <-chan error {
	first := make(chan error, 1)
	e.mu.Lock()
	e.pending = &rec
	e.mu.Unlock()
	e.bg.Go(func() {
		retry := newBackoff()
		for attempt := 1; ; attempt++ {
			err := e.latch.Set(ctx, rec)
			if attempt == 1 {
				first <- err
				if onFirst != nil {
					onFirst(err)
				}
			}
			if err == nil {
				e.dropPending(rec.TraceID)
				audit(e.log, zerolog.InfoLevel, rec.TraceID, "latch").Int("attempt", attempt).Msg("audit")
				return
			}
			audit(e.log, zerolog.ErrorLevel, rec.TraceID, "latch_failed").Int("attempt", attempt).Err(err).Msg("audit")
			if !e.isPending(rec.TraceID) || !backoff.Sleep(ctx, max(retry.Next(), 500*time.Millisecond)) {
				return
			}
		}
	})
	return first
}

func (e *Engine) isPending(traceID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pending != nil && e.pending.TraceID == traceID
}

func (e *Engine) dropPending(traceID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pending != nil && e.pending.TraceID == traceID {
		e.pending = nil
	}
}

func closedErr(err error) <-chan error {
	c := make(chan error, 1)
	c <- err
	return c
}

// flatten runs the flatten command and audits its outcome.
func (e *Engine) flatten(ctx context.Context, rec Record) *FlattenResult {
	env := []string{
		"SUPERGUARD_HALT_REASON=" + rec.Reason,
		"SUPERGUARD_HALT_TRIGGER=" + rec.Trigger,
		"SUPERGUARD_HALT_BY=" + rec.By,
		"SUPERGUARD_TRACE_ID=" + rec.TraceID,
	}
	r := runFlatten(ctx, e.cfg.Flatten, e.cfg.flattenTimeout(), env)
	r.Output, r.Err = e.redact(r.Output), e.redact(r.Err)
	lvl := zerolog.InfoLevel
	if !r.OK() {
		lvl = zerolog.ErrorLevel
	}
	audit(e.log, lvl, rec.TraceID, "flatten").Strs("command", r.Command).Int("exit_code", r.ExitCode).
		Bool("timed_out", r.TimedOut).Str("error", r.Err).Dur("duration", r.Duration).Str("output", r.Output).Msg("audit")
	return r
}

// stderrTail fetches the tail of a process's stderr log for the page; a
// failure only leaves the tail out.
func (e *Engine) stderrTail(ctx context.Context, name string) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	t, err := e.sup.TailProcessStderrLog(ctx, name, 0, tailBytes)
	if err != nil {
		e.log.Debug().Err(err).Str("process", name).Msg("stderr tail")
		return ""
	}
	return t.Data
}

// verifyTimeout is the configured deadline, else the targets' largest
// stopwaitsecs plus VerifyMargin. The stopwaitsecs come from the cache
// RefreshStopWait keeps (a halt never waits on getAllConfigInfo, a large
// answer that would hold supervisord's loop while it reaps the stopped
// targets); only when nothing was cached yet are they read here.
func (e *Engine) verifyTimeout(ctx context.Context) time.Duration {
	if e.cfg.VerifyTimeout > 0 {
		return e.cfg.VerifyTimeout
	}
	e.mu.Lock()
	wait := e.stopWait
	e.mu.Unlock()
	if wait == 0 {
		if err := e.RefreshStopWait(ctx); err != nil {
			e.log.Warn().Err(err).Dur("default", DefaultStopWait).Msg("read stopwaitsecs")
			return DefaultStopWait + VerifyMargin
		}
		e.mu.Lock()
		wait = e.stopWait
		e.mu.Unlock()
	}
	return wait + VerifyMargin
}

// StopWaitStale reports whether the cached stopwaitsecs of the targets are
// missing or older than stopWaitCacheTTL (always false with a configured
// VerifyTimeout).
func (e *Engine) StopWaitStale() bool {
	if e.cfg.VerifyTimeout > 0 {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopWait == 0 || e.now().Sub(e.stopWaitAt) > stopWaitCacheTTL
}

// RefreshStopWait reads the targets' largest stopwaitsecs from supervisord
// (getAllConfigInfo) into the cache the verification deadline uses.
func (e *Engine) RefreshStopWait(ctx context.Context) error {
	wait, err := e.readStopWait(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.stopWait, e.stopWaitAt = wait, e.now()
	e.mu.Unlock()
	return nil
}

// readStopWait returns the largest stopwaitsecs among the targets.
func (e *Engine) readStopWait(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := e.sup.Multicall(ctx, []supervisor.Call{{Method: "supervisor.getAllConfigInfo"}})
	if err != nil {
		return 0, err
	}
	if res[0].Err != nil {
		return 0, res[0].Err
	}
	infos, err := supervisor.DecodeAllConfigInfo(res[0].Value)
	if err != nil {
		return 0, err
	}
	var longest time.Duration
	for _, c := range infos {
		if e.cfg.IsTarget(supervisor.ProcessInfo{Name: c.Name, Group: c.Group}) {
			longest = max(longest, c.StopWait)
		}
	}
	if longest == 0 {
		return 0, errors.New("getAllConfigInfo: no stopwaitsecs for any target")
	}
	return longest, nil
}
