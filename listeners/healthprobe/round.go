package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/superguard/superguard/pkg/session"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/probe"
	"github.com/superguard/superguard/pkg/supervisor"
)

// roundWithin bounds a round's reads of supervisord and the latch.
const roundWithin = 5 * time.Second

// tick starts a round in the background unless one is still running: the
// event is acknowledged at once.
func (e *engine) tick() {
	e.round.Go(&e.wg, func() { e.runRound(e.bg) })
}

// runRound reads supervisord's processes and the latch, brings the targets
// in line with them, evaluates heartbeats, dispatches the probes that are
// due (they finish on their own goroutines), and writes the status.
func (e *engine) runRound(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, roundWithin)
	defer cancel()
	procs, err := e.table.Processes(rctx)
	latched, latchErr := false, error(nil)
	if e.latch != nil {
		latched, _, latchErr = halt.Halted(rctx, e.latch)
	}
	sessions := e.readSessions(rctx)
	now := e.now()
	e.mu.Lock()
	e.sessions = sessions
	e.rounds++
	e.roundAt, e.supErr, e.latched, e.latchErr = now, err, latched, latchErr
	if err != nil {
		e.mu.Unlock()
		e.log.Warn().Err(err).Msg("supervisord not readable: this round probes nothing")
		e.writeStatus()
		return
	}
	due := e.syncTargets(procs, now)
	e.mu.Unlock()
	if e.notify != nil {
		e.notify.sync(e.notifyProcesses())
	}
	rd := &roundDone{start: now, left: int64(len(due)), log: e.log, n: len(due)}
	for _, d := range due {
		e.dispatch(d.t, d.gen, rd)
	}
	e.writeStatus()
}

// syncTargets creates, resets and drops targets to match procs, evaluates
// what needs no probe (heartbeats, FATAL, pauses), and returns the targets
// whose probe is due. Called with e.mu held.
func (e *engine) syncTargets(procs []supervisor.ProcessInfo, now time.Time) []dueProbe {
	seen := map[string]bool{}
	var due []dueProbe
	for _, info := range procs {
		p := probe.Process{Group: info.GroupName(), Name: info.Name, PID: info.PID}
		b := e.beatOf(p.FullName())
		b.update(func(s *beatState) {
			if info.PID != 0 && s.pid != info.PID {
				// A new incarnation: its heartbeats, READY and TTL start over.
				*s = beatState{pid: info.PID}
			}
		})
		for _, c := range e.checks {
			if !c.sel.Match(p.Group, p.Name) {
				continue
			}
			k := c.cfg.Name + "|" + p.FullName()
			seen[k] = true
			t := e.targets[k]
			if t == nil {
				t = &target{check: c, proc: p, watched: now}
				t.reset(info.Start)
				e.targets[k] = t
			}
			switch {
			case info.State == supervisor.ProcessRunning && t.proc.PID != info.PID:
				// A new incarnation: counters and grace start over.
				t.proc.PID = info.PID
				t.reset(info.Start)
			case info.PID == t.proc.PID && !info.Start.IsZero():
				// supervisord's start time refines the one an event gave.
				t.start = info.Start
			}
			if e.evaluate(t, info, b, now) {
				due = append(due, dueProbe{t, t.gen})
			}
		}
	}
	for k, t := range e.targets {
		if seen[k] {
			continue
		}
		delete(e.targets, k)
		if t.open {
			// Removed from supervisord (or from the check): its incident
			// would never resolve by itself.
			t.open = false
			e.wg.Go(func() {
				e.resolve(t, probe.Result{At: now, Evidence: "no longer watched: removed from supervisord or from the check"})
			})
		}
	}
	return due
}

// dueProbe is a probe to run on target t of incarnation gen.
type dueProbe struct {
	t   *target
	gen int
}

// evaluate decides what a target does this round; it returns true when a
// probe is due. Called with e.mu held.
func (e *engine) evaluate(t *target, info supervisor.ProcessInfo, hb *beat, now time.Time) bool {
	cfg := t.check.cfg
	switch {
	case t.acting:
		return false
	case cfg.Active != nil && !cfg.Active.Contains(now, e.sessions[cfg.Active.Exchange]):
		t.state, t.history, t.passes = StateOutside, nil, 0
		return false
	case (e.latched || e.latchErr != nil) && e.isHaltTarget(t.proc):
		t.state = StatePaused
		return false
	}
	switch info.State {
	case supervisor.ProcessRunning:
	case supervisor.ProcessFatal:
		// supervisord gave up on it: that is a failure of the check (and a
		// restart, within the budget, brings it back).
		if now.Before(t.next) {
			return false
		}
		t.next = nextProbe(now, cfg.Every)
		r := probe.Result{At: now, Evidence: "FATAL: supervisord gave up starting it (" + info.SpawnErr + ")"}
		if info.SpawnErr == "" {
			r.Evidence = "FATAL: supervisord gave up starting it"
		}
		e.recordLocked(t, r)
		return false
	case supervisor.ProcessStarting, supervisor.ProcessBackoff:
		t.state = StateStarting
		return false
	default:
		// Stopped or exited: a person (or supervisord) stopped it; not
		// healthprobe's to bring back.
		if !t.open {
			t.state, t.history, t.passes = StateNotRunning, nil, 0
		}
		return false
	}
	b := hb.get()
	inGrace := now.Before(t.start.Add(cfg.Grace)) && !b.ready
	if inGrace || now.Before(t.cool) {
		t.state = StateStarting
		return false
	}
	if t.check.prober == nil {
		r := e.heartbeatResult(t, b, now)
		if b.trigger != "" {
			hb.update(func(s *beatState) { s.trigger = "" }) // consumed
		}
		e.recordLocked(t, r)
		return false
	}
	if t.probing || now.Before(t.next) {
		return false
	}
	t.next = nextProbe(now, cfg.Every)
	t.probing = true
	return true
}

// nextProbe is when the probe after one at now falls due. Rounds run on
// TICK_5 events, whose delivery wanders by some milliseconds: a probe due
// exactly every later would miss the tick that arrives a little early and
// run one tick late (every 10 s instead of 5 s). Half a tick of slack
// keeps it on the tick every after this one.
func nextProbe(now time.Time, every time.Duration) time.Time {
	return now.Add(every - sections.TickPeriod/2)
}

// heartbeatResult checks the age of the last heartbeat of t's process
// against its TTL; before the first one, the age counts from the end of
// the grace (or READY). Called with e.mu held.
func (e *engine) heartbeatResult(t *target, b beatState, now time.Time) probe.Result {
	ttl := t.check.cfg.Heartbeat.TTL
	if b.ttl > 0 {
		ttl = b.ttl
	}
	r := probe.Result{At: now}
	if b.trigger != "" {
		r.Evidence = "the program asked for a restart (WATCHDOG=trigger)"
		return r
	}
	from, what := b.last, "last heartbeat"
	switch {
	case from.IsZero() && t.watched.After(t.start.Add(t.check.cfg.Grace)):
		from, what = t.watched, "no heartbeat since healthprobe started watching"
	case from.IsZero() || from.Before(t.start):
		from, what = t.start.Add(t.check.cfg.Grace), "no heartbeat since the start-up grace ended"
	}
	r.Age = now.Sub(from)
	status := ""
	if b.status != "" {
		status = "; last STATUS: " + b.status
	}
	if r.Age > ttl {
		r.Evidence = what + " " + r.Age.Round(time.Second).String() + " ago (ttl " + ttl.String() + ")" + status
		return r
	}
	r.OK, r.Evidence = true, what+" "+r.Age.Round(time.Millisecond).String()+" ago"+status
	return r
}

// dispatch runs t's probe on its own goroutine, within the concurrency
// bound and the check's timeout, and applies the result unless the
// process restarted meanwhile (gen).
//
// It waits for a free slot before it starts the goroutine: a round waits
// in the background, not a thousand parked goroutines with their stacks.
func (e *engine) dispatch(t *target, gen int, rd *roundDone) {
	select {
	case e.sem <- struct{}{}:
	case <-e.bg.Done():
		e.mu.Lock()
		t.probing = false
		e.mu.Unlock()
		rd.done()
		return
	}
	e.wg.Go(func() {
		defer rd.done()
		ctx, cancel := context.WithTimeout(e.bg, t.check.cfg.Timeout)
		r := t.check.prober.Probe(ctx, t.proc)
		cancel()
		<-e.sem
		gone := !r.OK && !e.stillRunning(t.proc)
		e.mu.Lock()
		t.probing = false
		if gone {
			e.mu.Unlock()
			e.log.Info().Str("check", t.check.cfg.Name).Str("process", t.proc.FullName()).Str("evidence", e.redact(r.Evidence)).
				Msg("probe failed while the process was being stopped (by supervisord, a person or another guard): not counted")
			return
		}
		if e.targets[t.key()] != t || t.gen != gen {
			e.mu.Unlock()
			return
		}
		e.recordLocked(t, r)
		e.mu.Unlock()
	})
}

// stillRunning reports whether p is still the RUNNING process that was
// probed: a probe that failed because the process was being stopped
// (memguard restarting it in the same TICK_5, an operator's stop) says
// nothing about its health. When supervisord cannot tell, it counts as
// running: the failure counts.
func (e *engine) stillRunning(p probe.Process) bool {
	ctx, cancel := context.WithTimeout(e.bg, stillRunningWithin)
	defer cancel()
	info, err := e.sup.GetProcessInfo(ctx, p.FullName())
	if err != nil {
		return true
	}
	return info.State == supervisor.ProcessRunning && (p.PID == 0 || info.PID == p.PID)
}

// stillRunningWithin bounds stillRunning's call.
const stillRunningWithin = 2 * time.Second

// recordLocked applies a result to t and starts what it calls for. Called
// with e.mu held.
func (e *engine) recordLocked(t *target, r probe.Result) {
	failed, recovered := t.record(r)
	if !r.OK {
		e.log.Info().Str("check", t.check.cfg.Name).Str("process", t.proc.FullName()).Int("failures", t.failures()).
			Int("threshold", t.check.cfg.Failures).Int("within", t.check.cfg.Within).Str("evidence", e.redact(r.Evidence)).
			Msg("check failed")
	}
	switch {
	case recovered:
		e.wg.Go(func() { e.resolve(t, r) })
	case failed || (t.open && !t.acting && e.actionDue(t)):
		t.acting = true
		e.wg.Go(func() { e.act(t, r) })
	}
}

// actionDue reports whether an open target's policy calls for another
// action now: a restart that waited for its back-off or for the budget.
// Called with e.mu held.
func (e *engine) actionDue(t *target) bool {
	if t.check.cfg.Policy != sections.PolicyRestart || t.failures() < t.check.cfg.Failures {
		return false
	}
	switch t.state {
	case StateBackoff, StateSpent:
		return !t.budget.Until.IsZero() && !e.now().Before(t.budget.Until)
	case StatePaused, StateUnhealthy:
		return true
	}
	return false
}

// notifyProcesses are the processes of notify heartbeat checks: each gets
// a socket.
func (e *engine) notifyProcesses() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, t := range e.targets {
		if hb := t.check.cfg.Heartbeat; hb != nil && hb.Channel == "notify" {
			out = append(out, t.proc.FullName())
		}
	}
	return out
}

// roundDone logs when the last probe a round dispatched has finished: the
// round's wall time (the benchmark reads it).
type roundDone struct {
	start time.Time
	left  int64
	n     int
	log   zerolog.Logger
}

func (r *roundDone) done() {
	if atomic.AddInt64(&r.left, -1) == 0 {
		r.log.Debug().Int("probes", r.n).Float64("took_ms", float64(time.Since(r.start).Microseconds())/1000).Msg("round probed")
	}
}

// readSessions reads the session timelines the checks' active windows
// name; one that cannot be read is left out (its checks stay active).
func (e *engine) readSessions(ctx context.Context) map[string]*session.Timeline {
	out := map[string]*session.Timeline{}
	for _, c := range e.checks {
		a := c.cfg.Active
		if a == nil || len(a.Session) == 0 || e.session == nil {
			continue
		}
		if _, done := out[a.Exchange]; done {
			continue
		}
		tl, err := e.session(ctx, a.Exchange)
		if err != nil {
			e.log.Warn().Err(err).Str("exchange", a.Exchange).Msg("trading session unreadable: checks limited to sessions stay active")
		}
		out[a.Exchange] = tl
	}
	return out
}
