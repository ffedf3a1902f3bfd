package halt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/backoff"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Timing of the stop, verify and kill steps.
const (
	callTimeout      = 5 * time.Second        // one XML-RPC call
	verifyFirstPoll  = 10 * time.Millisecond  // first re-read of the process list
	verifyMaxPoll    = 250 * time.Millisecond // the poll interval grows to this
	killGrace        = 2 * time.Second        // how long SIGKILLed processes get to be reaped
	retryFirst       = 50 * time.Millisecond  // first wait before retrying an unreachable supervisord
	retryMax         = 2 * time.Second        // the retry wait grows to this
	stopWaitCacheTTL = 5 * time.Minute        // how long a stopwaitsecs lookup is trusted
)

// stopOutcome classifies the answer to one stopProcess call.
type stopOutcome int

const (
	stopSent        stopOutcome = iota // the process was told to stop
	stopNotRunning                     // NOT_RUNNING or BAD_NAME: nothing to stop
	stopShutdown                       // supervisord is shutting down and stops everything itself
	stopFault                          // any other fault: verification decides
	stopUnreachable                    // no answer: retry
)

func classifyStop(err error) stopOutcome {
	var f *supervisor.Fault
	switch {
	case err == nil:
		return stopSent
	case errors.As(err, &f):
		switch f.Code {
		case supervisor.FaultNotRunning, supervisor.FaultBadName:
			return stopNotRunning
		case supervisor.FaultShutdownState:
			return stopShutdown
		}
		return stopFault
	}
	return stopUnreachable
}

// stopNames asks supervisord to stop every named process at once, with
// wait=false so that no process waits on another, and returns each answer.
func (e *Engine) stopNames(ctx context.Context, names []string) map[string]error {
	return e.fan.StopAll(ctx, names, e.cfg.stopMode() == StopMulticall)
}

// stopRound stops names and records what happened in res. It returns the
// first error that left supervisord unreachable (the round must be
// retried), and whether supervisord is shutting down.
func (e *Engine) stopRound(ctx context.Context, rec Record, names []string, res *Result) (unreachable error, shutdown bool) {
	answers := e.stopNames(ctx, names)
	for _, name := range slices.Sorted(maps.Keys(answers)) {
		err := answers[name]
		switch classifyStop(err) {
		case stopSent:
			if !slices.Contains(res.Stopped, name) {
				res.Stopped = append(res.Stopped, name)
			}
			delete(res.StopErrors, name)
			audit(e.log, zerolog.InfoLevel, rec.TraceID, "stop").Str("process", name).Msg("audit")
		case stopNotRunning:
			delete(res.StopErrors, name)
			if !slices.Contains(res.Stopped, name) && !slices.Contains(res.AlreadyDown, name) {
				res.AlreadyDown = append(res.AlreadyDown, name)
			}
		case stopShutdown:
			shutdown = true
		case stopFault:
			res.StopErrors[name] = err.Error()
			audit(e.log, zerolog.WarnLevel, rec.TraceID, "stop_failed").Str("process", name).Err(err).Msg("audit")
		case stopUnreachable:
			if unreachable == nil {
				unreachable = err
			}
			res.StopErrors[name] = err.Error()
		}
	}
	return unreachable, shutdown
}

// Live reports whether a process in state s must be stopped: it runs, is
// starting, or will be started again (BACKOFF).
func Live(s supervisor.ProcessState) bool {
	return s == supervisor.ProcessStarting || s == supervisor.ProcessRunning || s == supervisor.ProcessBackoff
}

// down reports whether a process in state s is verified stopped.
func down(s supervisor.ProcessState) bool {
	return s == supervisor.ProcessStopped || s == supervisor.ProcessExited || s == supervisor.ProcessFatal
}

// verify polls the process list until every target is down, stops targets
// found live again, and SIGKILLs those still up at the deadline.
func (e *Engine) verify(ctx context.Context, rec Record, res *Result, deadline time.Time) {
	interval := verifyFirstPoll
	killed := false
	retry := newBackoff()
	// The stops were just sent: give supervisord a moment to reap before
	// loading it with a process list.
	if !backoff.Sleep(ctx, verifyFirstPoll) {
		res.StopErrors["*"] = "verification interrupted"
		return
	}
	for {
		procs, err := e.ListProcesses(ctx)
		if err != nil {
			if ctx.Err() != nil {
				res.StopErrors["*"] = fmt.Sprintf("verification interrupted: %v", err)
				return
			}
			audit(e.log, zerolog.ErrorLevel, rec.TraceID, "verify_retry").Err(err).Msg("audit")
			if !backoff.Sleep(ctx, retry.Next()) {
				res.StopErrors["*"] = fmt.Sprintf("verification interrupted: %v", err)
				return
			}
			continue
		}
		retry.Reset()
		var pending []supervisor.ProcessInfo
		var restart []string
		for _, p := range procs {
			if !e.cfg.IsTarget(p) || down(p.State) {
				continue
			}
			pending = append(pending, p)
			if Live(p.State) {
				restart = append(restart, p.FullName())
			}
		}
		if len(restart) > 0 {
			if _, shutdown := e.stopRound(ctx, rec, restart, res); shutdown {
				res.SupervisorDown = true
				return
			}
		}
		if len(pending) == 0 {
			clear(res.StopErrors)
			return
		}
		now := e.now()
		switch {
		case now.Before(deadline):
		case !killed:
			e.kill(ctx, rec, res, pending)
			killed = true
			deadline = now.Add(killGrace)
			interval = verifyFirstPoll
			continue
		default:
			for _, p := range pending {
				res.Survivors = append(res.Survivors, p.FullName())
				audit(e.log, zerolog.ErrorLevel, rec.TraceID, "survivor").Str("process", p.FullName()).
					Int("pid", p.PID).Str("state", p.State.String()).Msg("audit")
			}
			return
		}
		if !backoff.Sleep(ctx, min(interval, time.Until(deadline)+time.Millisecond)) {
			res.StopErrors["*"] = "verification interrupted"
			return
		}
		interval = min(interval*3/2, verifyMaxPoll)
	}
}

// kill sends SIGKILL to every process still up: through supervisord's
// signalProcess, and when that fails with kill(2) on its pid (haltguard runs
// on the same host).
func (e *Engine) kill(ctx context.Context, rec Record, res *Result, procs []supervisor.ProcessInfo) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() {
			name := p.FullName()
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			var err error
			method := "signalProcess"
			if p.PID == 0 {
				// BACKOFF or STARTING before the fork: nothing to signal,
				// a stop cancels the pending start.
				method = "stopProcess"
				err = e.sup.StopProcess(cctx, name, false)
			} else if err = e.sup.SignalProcess(cctx, name, "KILL"); err != nil && p.PID > 0 {
				e.log.Warn().Err(err).Str("process", name).Msg("signalProcess KILL failed: using kill(2)")
				method = "kill(2)"
				err = syscall.Kill(p.PID, syscall.SIGKILL)
			}
			lvl := zerolog.WarnLevel
			if err != nil && classifyStop(err) != stopNotRunning {
				lvl = zerolog.ErrorLevel
			}
			audit(e.log, lvl, rec.TraceID, "kill").Str("process", name).Int("pid", p.PID).
				Str("state", p.State.String()).Str("method", method).AnErr("error", err).Msg("audit")
			mu.Lock()
			res.Killed = append(res.Killed, name)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(res.Killed)
}

// ListProcesses reads every process's state and refreshes the target
// cache that lets a halt send its stops before reading the list again.
func (e *Engine) ListProcesses(ctx context.Context) ([]supervisor.ProcessInfo, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	procs, err := e.sup.GetAllProcessInfo(cctx)
	if err != nil {
		return nil, err
	}
	e.Learn(procs)
	return procs, nil
}

// newBackoff is the wait before retrying an unreachable supervisord.
func newBackoff() *backoff.Backoff { return backoff.New(retryFirst, retryMax, 0) }
