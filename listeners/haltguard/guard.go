package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/runone"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// blindAfter is how many process-list failures in a row make the guard
// page that it cannot see supervisord.
const blindAfter = 3

// Guard turns what supervisord reports into halts and latch enforcement.
// The haltguard listener feeds it state changes, process lists (on start-up,
// on every TICK, after a gap in the event stream) and remote commands. The
// work runs on goroutines bound to the Guard's context, so the event loop
// acknowledges promptly; one halt runs at a time.
type Guard struct {
	e     *halt.Engine
	cfg   halt.Config
	pages *pages
	ctx   context.Context
	log   zerolog.Logger
	sup   stateGetter
	watch *deathWatch

	mu           sync.Mutex
	halting      bool          // a halt (or the completion of one) is running
	enforcing    bool          // an enforcement is running
	enforceAgain bool          // another enforcement was asked for meanwhile
	checking     runone.Runner // a TICK check
	refreshing   runone.Runner // a stopwaitsecs read
	failures     int           // process-list failures in a row
	blindPaged   bool
	// bootUntil ends the start-up grace: until then a critical program
	// that has not been RUNNING yet may still be starting.
	bootUntil time.Time
	// seenRunning are the critical programs seen RUNNING by this guard.
	seenRunning map[string]bool
	// remoteResume: superguard.resume events may resume trading.
	remoteResume bool
	// latchUnknown: the last check could not read the latch (and halted).
	latchUnknown bool
	// syncLatch copies a latch one copy holds into the others (a halt the
	// store could not take when it happened); run on every TICK.
	syncLatch func(context.Context) error
	// absentSince is when a critical pattern was first found to match no
	// process (removed from supervisord's configuration).
	absentSince map[string]time.Time

	wg sync.WaitGroup
}

// NewGuard returns a Guard whose background work ends with ctx. It pages
// what only it sees (a supervisord it cannot read) through p, and nudges
// sup when a critical program dies.
func NewGuard(ctx context.Context, e *halt.Engine, sup stateGetter, p *pages, log zerolog.Logger) *Guard {
	return &Guard{e: e, cfg: e.Config(), pages: p, ctx: ctx, log: log, sup: sup, watch: newDeathWatch(sup, log),
		seenRunning: map[string]bool{}, absentSince: map[string]time.Time{}}
}

// SetLatchSync has every TICK run sync, which brings the latch's copies
// (files and store) in line.
func (g *Guard) SetLatchSync(sync func(context.Context) error) { g.syncLatch = sync }

// AllowRemoteResume lets superguard.resume REMOTE_COMMUNICATION events
// resume trading (off by default: anyone who can call supervisord's
// sendRemoteCommEvent may stop trading, only an operator may restart it).
func (g *Guard) AllowRemoteResume(on bool) { g.remoteResume = on }

// SetStartupGrace gives critical programs that have not been RUNNING yet
// until bootUntil (supervisord's start plus the configured grace) to come
// up: until then a critical program STOPPED, BACKOFF or EXITED on its way
// up does not halt (FATAL does). After it, any critical program that is
// not RUNNING halts.
func (g *Guard) SetStartupGrace(bootUntil time.Time) {
	g.mu.Lock()
	g.bootUntil = bootUntil
	g.mu.Unlock()
}

// Wait waits for the guard's background work (halts, checks, enforcement)
// and the engine's latch writers.
func (g *Guard) Wait() {
	g.wg.Wait()
	g.e.Wait()
	g.pages.Wait()
}

// WaitWatches waits for the pid watches of the critical programs, which end
// with the guard's context (within a quarter of a second).
func (g *Guard) WaitWatches() { g.watch.wait() }

// StateChange is one PROCESS_STATE_* event.
type StateChange struct {
	Process  string // "group:name"
	From     string
	To       supervisor.ProcessState
	Expected bool // EXITED: the exit status was in exitcodes
	PID      int
	Time     time.Time // when it was received
}

// OnState handles a state change. A critical program that leaves RUNNING
// for any reason (EXITED, FATAL, BACKOFF, STOPPING or STOPPED by a person
// or a script) starts a halt, except on its way up during the start-up
// grace and while supervisord itself is shutting down (it stops every
// process then); a target starting while trading is halted is stopped
// again. When it starts
// a halt, OnState returns once the latch write has been attempted (the
// stops are already on their way), so the caller acknowledges the event
// only after the latch is durable; ctx bounds that wait.
func (g *Guard) OnState(ctx context.Context, ch StateChange) {
	cfg := g.cfg
	group, name, _ := strings.Cut(ch.Process, ":")
	p := supervisor.ProcessInfo{Group: group, Name: name, State: ch.To, PID: ch.PID}
	switch {
	case cfg.IsCritical(p):
		g.followCritical(ch.Process, ch.To, ch.PID)
		if !g.down(ctx, ch.Process, ch.To) {
			return
		}
		how := "event"
		switch {
		case ch.To == supervisor.ProcessExited && ch.Expected:
			how = "exit, event"
		case ch.To == supervisor.ProcessExited:
			how = "unexpected exit, event"
		case ch.To == supervisor.ProcessStopping || ch.To == supervisor.ProcessStopped:
			how = "stopped by a request to supervisord, event"
		}
		g.trigger(ctx, halt.Request{
			Reason:  triggerReason(ch.Process, ch.To, how),
			Trigger: halt.Trigger{Process: ch.Process, State: ch.To, FromState: ch.From, Expected: ch.Expected, PID: ch.PID, Source: "event"},
			Time:    ch.Time,
		})
	case cfg.IsTarget(p) && ch.To == supervisor.ProcessRunning:
		g.enforce([]string{ch.Process}, "event")
	case cfg.IsTarget(p) && halt.Live(ch.To):
		g.enforceUnlessRefused(ch.Process)
	}
}

// gateWindow is how long a target starting (or backing off) while trading
// is halted is given to be refused by `haltguard gate` on its own before
// haltguard stops it: stopping it at once would SIGTERM the gate before it
// could say why it refuses, and page a start that never ran.
const gateWindow = 300 * time.Millisecond

// enforceUnlessRefused stops name, after gateWindow, if trading is halted
// and it is still starting or running then; one the gate refused (it
// exited: BACKOFF, EXITED, FATAL) is left to supervisord, with an info line.
func (g *Guard) enforceUnlessRefused(name string) {
	g.wg.Go(func() {
		t := time.NewTimer(gateWindow)
		defer t.Stop()
		select {
		case <-t.C:
		case <-g.ctx.Done():
			return
		}
		st, err := g.e.Latched(g.ctx)
		if err == nil && !st.Latched {
			return
		}
		procs, lerr := g.e.ListProcesses(g.ctx)
		for _, p := range procs {
			if p.FullName() != name {
				continue
			}
			if lerr == nil && p.State != supervisor.ProcessStarting && p.State != supervisor.ProcessRunning {
				g.log.Info().Str("process", name).Str("state", p.State.String()).
					Msg("start refused while halted (the gate): nothing to stop")
				return
			}
		}
		g.enforce([]string{name}, "event")
	})
}

// followCritical keeps the pid watch of a critical program current: a new
// pid is watched, and nudging stops once supervisord reported where a
// failure ended.
func (g *Guard) followCritical(name string, s supervisor.ProcessState, pid int) {
	switch s {
	case supervisor.ProcessRunning, supervisor.ProcessStarting:
		g.watch.observe(g.ctx, name, pid)
	case supervisor.ProcessFatal, supervisor.ProcessStopped, supervisor.ProcessStopping:
		g.watch.settle(name)
	}
}

// down reports whether a critical program found in state st must halt
// trading: any state but RUNNING and STARTING, except
//   - on its way up: a program this guard has not seen RUNNING, within the
//     start-up grace, in STOPPED, BACKOFF or EXITED (supervisord is still
//     starting it; FATAL and UNKNOWN halt at once);
//   - STOPPING or STOPPED while supervisord is shutting down or restarting
//     (it stops every process itself; the gate keeps strategies from
//     starting before the risk manager when it comes back).
//
// A supervisord whose state cannot be read counts as running: halt.
func (g *Guard) down(ctx context.Context, name string, st supervisor.ProcessState) bool {
	g.mu.Lock()
	if st == supervisor.ProcessRunning {
		g.seenRunning[name] = true
	}
	booting := !g.seenRunning[name] && time.Now().Before(g.bootUntil)
	g.mu.Unlock()
	switch st {
	case supervisor.ProcessRunning, supervisor.ProcessStarting:
		return false
	case supervisor.ProcessFatal, supervisor.ProcessUnknown:
		return true
	case supervisor.ProcessStopped, supervisor.ProcessBackoff, supervisor.ProcessExited:
		if booting {
			g.log.Info().Str("process", name).Str("state", st.String()).Time("grace_until", g.bootUntil).
				Msg("critical program not up yet, within the start-up grace")
			return false
		}
	}
	if st == supervisor.ProcessStopping || st == supervisor.ProcessStopped {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if sv, err := g.sup.GetState(ctx); err == nil && sv.Code != supervisor.SupervisorRunning {
			g.log.Info().Str("process", name).Str("state", st.String()).Str("supervisord", sv.Name).
				Msg("critical program stopped by supervisord's own shutdown: not halting")
			return false
		}
	}
	return true
}

// Check reconciles with a fresh process list: source is "start" (haltguard
// just started), "gap" (supervisord dropped events) or "tick". While
// latched it finishes an interrupted halt (on start-up) or stops live
// targets; otherwise it halts when a critical program is down — the safety
// net for a dropped event.
func (g *Guard) Check(ctx context.Context, procs []supervisor.ProcessInfo, source string) {
	g.e.Learn(procs)
	g.refreshStopWait()
	for _, p := range procs {
		if g.cfg.IsCritical(p) {
			g.followCritical(p.FullName(), p.State, p.PID)
		}
	}
	st, err := g.e.Latched(ctx)
	if err != nil {
		// Fail closed: a latch that cannot be read (corrupt, unreadable)
		// is treated as set. Halting once writes a fresh latch record and
		// pages; later checks do not halt again for the same failure.
		g.mu.Lock()
		first := !g.latchUnknown
		g.latchUnknown = true
		g.mu.Unlock()
		g.log.Error().Err(err).Bool("halting", first).Msg("read halt latch: trading is treated as halted")
		if first {
			g.trigger(ctx, halt.Request{
				Reason:  fmt.Sprintf("the halt latch cannot be read (%v): trading is treated as halted", err),
				Trigger: halt.Trigger{Source: source},
			})
		}
		return
	}
	g.mu.Lock()
	g.latchUnknown = false
	g.mu.Unlock()
	if st.Latched {
		if source == "start" && st.Record.Completed.IsZero() {
			g.finish(st.Record)
			return
		}
		var liveTargets []string
		for _, p := range procs {
			if g.cfg.IsTarget(p) && halt.Live(p.State) {
				liveTargets = append(liveTargets, p.FullName())
			}
		}
		if len(liveTargets) > 0 {
			g.enforce(liveTargets, source)
		}
		return
	}
	if g.absentCritical(ctx, procs, st, source) {
		return
	}
	for _, p := range procs {
		if !g.cfg.IsCritical(p) || !g.down(ctx, p.FullName(), p.State) {
			continue
		}
		if !st.ResumedAt.IsZero() && !p.Stop.IsZero() && !p.Stop.After(st.ResumedAt) {
			// Down since before a forced resume: a person decided to
			// trade without it.
			g.log.Debug().Str("process", p.FullName()).Str("state", p.State.String()).
				Time("resumed_at", st.ResumedAt).Msg("critical program down before a forced resume: not halting")
			continue
		}
		g.trigger(ctx, halt.Request{
			Reason:  triggerReason(p.FullName(), p.State, "found by the "+source+" check"),
			Trigger: halt.Trigger{Process: p.FullName(), State: p.State, PID: p.PID, Source: source},
		})
		return
	}
}

// absentCritical halts when a critical pattern matches no process any more
// (the program was removed from supervisord's configuration by an update),
// unless a forced resume came after that was first seen. It reports
// whether it halted.
func (g *Guard) absentCritical(ctx context.Context, procs []supervisor.ProcessInfo, st halt.LatchState, source string) bool {
	absent := procmatch.Unmatched(g.cfg.Critical, procs)
	g.mu.Lock()
	now := time.Now()
	since := map[string]time.Time{}
	for _, pat := range absent {
		first, ok := g.absentSince[pat]
		if !ok {
			first = now
		}
		since[pat] = first
	}
	g.absentSince = since
	g.mu.Unlock()
	for _, pat := range absent {
		if !st.ResumedAt.IsZero() && st.ResumedAt.After(since[pat]) {
			continue // a person resumed trading without it
		}
		g.trigger(ctx, halt.Request{
			Reason:  fmt.Sprintf("critical %s matches no process in supervisord (removed from its configuration?), found by the %s check", pat, source),
			Trigger: halt.Trigger{Process: pat, State: supervisor.ProcessUnknown, Source: source},
		})
		return true
	}
	return false
}

// refreshStopWait re-reads the targets' stopwaitsecs in the background when
// the cache is stale, so that a halt finds them cached (at most one read at
// a time).
func (g *Guard) refreshStopWait() {
	if !g.e.StopWaitStale() {
		return
	}
	g.refreshing.Go(&g.wg, func() {
		if err := g.e.RefreshStopWait(g.ctx); err != nil {
			g.log.Warn().Err(err).Msg("read the targets' stopwaitsecs")
		}
	})
}

// Tick runs a Check on a fresh process list in the background (at most one
// at a time). A supervisord that cannot be read blindAfter times in a row
// is paged: the kill switch cannot see or stop anything.
func (g *Guard) Tick() {
	g.checking.Go(&g.wg, func() {
		if g.syncLatch != nil {
			if err := g.syncLatch(g.ctx); err != nil {
				g.log.Warn().Err(err).Msg("halt latch: copies not in line yet")
			}
		}
		procs, err := g.e.ListProcesses(g.ctx)
		g.noteList(err)
		if err != nil {
			g.log.Error().Err(err).Msg("tick check: read process states")
			return
		}
		g.Check(g.ctx, procs, "tick")
	})
}

// noteList counts process-list failures and pages (and resolves) blindness.
func (g *Guard) noteList(err error) {
	g.mu.Lock()
	var a *alert.Alert
	if err != nil {
		g.failures++
		if g.failures >= blindAfter && !g.blindPaged {
			g.blindPaged = true
			a = g.blindAlert(alert.Trigger, err)
		}
	} else {
		g.failures = 0
		if g.blindPaged {
			g.blindPaged = false
			a = g.blindAlert(alert.Resolve, nil)
		}
	}
	g.mu.Unlock()
	if a != nil {
		g.pages.submit(g.ctx, a)
	}
}

func (g *Guard) blindAlert(kind alert.Kind, err error) *alert.Alert {
	self := g.cfg.Self
	if self == "" {
		self = listenerName + ":" + listenerName
	}
	a := &alert.Alert{
		Key:       alert.Key(g.pages.host, self, alert.CondListener),
		Kind:      kind,
		Host:      g.pages.host,
		Condition: alert.CondListener,
		Severity:  alert.Critical,
		Runbook:   g.pages.runbook,
		Listener:  listenerName,
		Time:      time.Now(),
		Summary:   "haltguard can read supervisord's process states again",
	}
	a.Group, a.Program, _ = strings.Cut(self, ":")
	if err != nil {
		a.Summary = "haltguard cannot reach supervisord's XML-RPC: the kill switch cannot stop anything"
		a.Details = map[string]string{"error": err.Error()}
		a.Action = "check the supervisord URL and credentials in haltguard's environment or config"
	}
	return a
}

// Remote handles a REMOTE_COMMUNICATION event; it reports whether the type
// was a haltguard command.
func (g *Guard) Remote(ctx context.Context, typ, data string) bool {
	switch typ {
	case RemoteHalt:
		cmd, err := ParseHaltCommand(data)
		if err != nil {
			// A kill switch pulled with a garbled note still halts.
			g.log.Warn().Err(err).Msg("remote halt: unreadable data, halting anyway")
		}
		g.trigger(ctx, halt.Request{Reason: cmd.Reason, By: "remote:" + cmd.By, Trigger: halt.Trigger{Source: "remote"}})
	case RemoteResume:
		if !g.remoteResume {
			g.log.Warn().Str("data", truncate(data, 200)).
				Msg("remote resume refused: listeners.haltguard.remote_resume is off; resume with `haltguard resume`")
			return true
		}
		cmd, err := ParseResumeCommand(data)
		if err != nil {
			// A garbled resume must not resume.
			g.log.Error().Err(err).Msg("remote resume: unreadable data: ignored")
			return true
		}
		g.wg.Go(func() {
			res, err := g.e.Resume(g.ctx, halt.ResumeOptions{By: "remote:" + cmd.By, Start: cmd.Start, Force: cmd.Force})
			if err != nil {
				g.log.Error().Err(err).Str("by", cmd.By).Msg("remote resume refused")
				return
			}
			g.log.Info().Bool("was_latched", res.Latch.Latched).Strs("started", res.Started).
				Interface("start_errors", res.StartErrors).Msg("remote resume done")
		})
	default:
		return false
	}
	return true
}

// trigger starts a halt unless one is running or trading is already halted
// (then it only makes sure every target is stopped). It waits, bounded by
// ctx, until the new halt's latch write has been attempted.
func (g *Guard) trigger(ctx context.Context, req halt.Request) {
	if req.By == "" {
		req.By = listenerName
	}
	st, err := g.e.Latched(ctx)
	if err != nil {
		g.log.Error().Err(err).Msg("read halt latch: halting anyway")
	}
	if st.Latched {
		audit(g.log, zerolog.InfoLevel, st.Record.TraceID, "already_halted").Str("reason", req.Reason).
			Str("trigger", req.Trigger.Process).Msg("audit")
		g.enforce(nil, "trigger")
		return
	}
	g.mu.Lock()
	if g.halting {
		g.mu.Unlock()
		g.log.Info().Str("reason", req.Reason).Msg("halt already in progress")
		return
	}
	g.halting = true
	g.mu.Unlock()
	// The halt's own requests turn supervisord's loop from now on.
	g.watch.settle(req.Trigger.Process)

	latched := make(chan struct{})
	var once sync.Once
	done := func(error) { once.Do(func() { close(latched) }) }
	req.OnLatch = done
	g.wg.Go(func() {
		defer g.doneHalting()
		defer done(nil)
		g.e.Halt(g.ctx, req)
	})
	select {
	case <-latched:
	case <-ctx.Done():
	}
}

// finish completes a halt found unfinished on start-up.
func (g *Guard) finish(rec halt.Record) {
	g.mu.Lock()
	if g.halting {
		g.mu.Unlock()
		return
	}
	g.halting = true
	g.mu.Unlock()
	g.wg.Go(func() {
		defer g.doneHalting()
		g.e.Finish(g.ctx, rec)
	})
}

func (g *Guard) doneHalting() {
	g.mu.Lock()
	g.halting = false
	g.mu.Unlock()
}

// enforce stops live targets (names; nil means all) in the background if
// trading is halted. A halt in progress already does it; enforcements do
// not overlap: one asked for meanwhile runs next, over every target.
func (g *Guard) enforce(names []string, source string) {
	g.mu.Lock()
	if g.halting {
		g.mu.Unlock()
		return
	}
	if g.enforcing {
		g.enforceAgain = true
		g.mu.Unlock()
		return
	}
	g.enforcing = true
	g.mu.Unlock()
	g.wg.Go(func() {
		for {
			st, err := g.e.Latched(g.ctx)
			switch {
			case err != nil:
				g.log.Error().Err(err).Msg("read halt latch: cannot enforce it")
			case st.Latched:
				g.e.Enforce(g.ctx, st.Record, names, source)
			}
			g.mu.Lock()
			if !g.enforceAgain || g.ctx.Err() != nil {
				g.enforcing = false
				g.mu.Unlock()
				return
			}
			g.enforceAgain = false
			g.mu.Unlock()
			names = nil
		}
	})
}

// triggerReason is the latch reason of an automatic halt:
// "<process> <STATE> (<how>)", e.g. "risk:rm FATAL (event)".
func triggerReason(process string, state supervisor.ProcessState, how string) string {
	return fmt.Sprintf("%s %s (%s)", process, state, how)
}
