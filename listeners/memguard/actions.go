package main

import (
	"context"
	"fmt"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/supervisor"
)

// checkWithin bounds the read of a process's state before an action.
const checkWithin = 10 * time.Second

// act carries out w's limit once it was above it for `for` samples:
// an alert (policy alert), or a restart through the governor.
func (e *engine) act(w *watched, ev map[string]string) {
	ctx := e.bg
	var out outbox
	defer func() {
		e.mu.Lock()
		w.acting = false
		e.mu.Unlock()
		out.send(e)
		e.writeStatus()
	}()
	e.mu.Lock()
	lim, pid, value, measure := e.cfg.Limits[w.limit], w.pid, w.value, w.measure
	e.mu.Unlock()
	// A process that exited or was restarted between the read and now is
	// not this action's: handled quietly.
	cctx, cancel := context.WithTimeout(ctx, checkWithin)
	info, err := e.sup.GetProcessInfo(cctx, w.name)
	cancel()
	switch {
	case err != nil && supervisor.IsFault(err, supervisor.FaultBadName):
		e.log.Info().Str("process", w.name).Msg("over its limit but removed from supervisord before the action: nothing to do")
		return
	case err == nil && (info.PID != pid || info.State != supervisor.ProcessRunning):
		e.log.Info().Str("process", w.name).Int("pid", pid).Int("now_pid", info.PID).Str("state", info.State.String()).
			Msg("over its limit but gone before the action: nothing to do")
		e.mu.Lock()
		w.over = 0
		e.mu.Unlock()
		return
	}
	summary := fmt.Sprintf("memory %s: %s of %s above its limit %s for %d samples", w.name, config.Size(value), measure, lim.Max, lim.For)
	if lim.Policy == sections.PolicyAlert {
		e.setAction(w, StateAlerted, "alerted (policy alert: no restart)")
		out.add(e.overAlert(w, alert.Error, summary, "alerted (policy alert: no restart)", ev))
		return
	}
	d := e.gov.Ask(ctx, w.name)
	e.mu.Lock()
	w.budget = d
	e.mu.Unlock()
	ev["restarts_left"] = budgetText(d)
	switch d.Verdict {
	case governor.Allow:
		e.restart(ctx, w, d, summary, ev, &out)
	case governor.Wait:
		if e.setAction(w, StateBackoff, "restart deferred: "+d.String()) {
			out.add(e.overAlert(w, alert.Warning, summary, "restart deferred: "+d.String(), ev))
		}
	case governor.Spent:
		if !e.setAction(w, StateSpent, d.String()) {
			return
		}
		action := e.actor().Spent(ctx, w.name, d, lim.Critical, summary)
		out.add(e.overAlert(w, alert.Warning, summary, "not restarted: "+d.String(), ev))
		e.mu.Lock()
		w.budgetOpen = true
		e.mu.Unlock()
		out.add(e.newAlert(w, alert.Trigger, alert.CondBudget, alert.Critical, "restart budget spent: "+w.name+" still above its memory limit", action, ev))
	default: // halted or unknown: fail closed, restart nothing
		if e.setAction(w, StatePaused, d.String()) {
			out.add(e.overAlert(w, alert.Warning, summary, d.String(), ev))
		}
	}
}

// overAlert raises (or updates) w's memory incident at the limit.
func (e *engine) overAlert(w *watched, sev alert.Severity, summary, action string, ev map[string]string) *alert.Alert {
	e.mu.Lock()
	w.overOpen = true
	e.mu.Unlock()
	return e.newAlert(w, alert.Trigger, alert.CondMemory, sev, summary, action, ev)
}

// restart restarts w's process and records it with the governor.
func (e *engine) restart(ctx context.Context, w *watched, d governor.Decision, summary string, ev map[string]string, out *outbox) {
	e.setAction(w, StateRestarting, "restarting")
	failure, note := e.actor().Restart(ctx, w.name)
	if failure != "" {
		e.setAction(w, StateOver, failure)
		out.add(e.overAlert(w, alert.Error, summary, failure, ev))
		return
	}
	if note != "" {
		note = "; " + note
	}
	now := e.now()
	action := fmt.Sprintf("restarted %s (%d of %d restarts used)%s", now.Format(time.TimeOnly), d.Used+1, d.Max, note)
	e.mu.Lock()
	w.state, w.lastAction, w.actionAt = StateOK, action, now
	w.budget.Used++
	w.over = 0
	e.mu.Unlock()
	e.log.Warn().Str("process", w.name).Str("summary", summary).Msg(action)
	out.add(e.overAlert(w, alert.Warning, summary, action, ev))
}

// setAction records what happened to w; it reports whether that is new,
// so that a repeated deferral is not alerted every round.
func (e *engine) setAction(w *watched, state, action string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := w.state != state || w.lastAction != action
	w.state, w.lastAction, w.actionAt = state, action, e.now()
	return changed
}
