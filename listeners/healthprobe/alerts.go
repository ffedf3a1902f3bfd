package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/probe"
)

// alertKey is the dedup key of t's incidents: one per check and process.
func (e *engine) alertKey(t *target, c alert.Condition) string {
	return alert.Key(e.host, t.proc.FullName(), c) + "/" + t.check.cfg.Name
}

// newAlert is t's alert with the evidence of r in its details, scrubbed of
// secrets.
func (e *engine) newAlert(t *target, r probe.Result, kind alert.Kind, c alert.Condition, sev alert.Severity, summary, action string) *alert.Alert {
	e.mu.Lock()
	t.seq++
	seq, gen := t.seq, t.gen
	budget := t.budget
	e.mu.Unlock()
	d := map[string]string{
		"check":    t.check.cfg.Name,
		"kind":     t.check.kind(),
		"evidence": e.redact(r.Evidence),
		"policy":   t.check.cfg.Policy,
	}
	if r.Status != 0 {
		d["http_status"] = strconv.Itoa(r.Status)
	}
	if r.Latency > 0 {
		d["latency"] = r.Latency.Round(time.Millisecond).String()
	}
	if r.Body != "" {
		d["body"] = e.redact(r.Body)
	}
	if r.Age > 0 {
		d["age"] = r.Age.Round(time.Millisecond).String()
	}
	if r.Skew > 0 {
		d["clock_skew"] = r.Skew.Round(time.Millisecond).String() + " ahead"
	}
	if t.proc.PID != 0 {
		d["pid"] = strconv.Itoa(t.proc.PID)
	}
	if !t.start.IsZero() {
		d["uptime"] = e.now().Sub(t.start).Round(time.Second).String()
	}
	if budget.Max > 0 {
		d["restarts_left"] = fmt.Sprintf("%d of %d", budget.Left(), budget.Max)
	}
	return &alert.Alert{
		Key: e.alertKey(t, c), Kind: kind, Host: e.host, Group: t.proc.Group, Program: t.proc.Name,
		Condition: c, Severity: sev, Summary: e.redact(summary), Details: d, Action: e.redact(action),
		Listener: listenerName, Time: e.now(),
		SourceID: fmt.Sprintf("%s/%s/%s/%d/%d/%d", listenerName, t.check.cfg.Name, t.proc.FullName(), t.proc.PID, gen, seq),
	}
}

// submit raises (or updates) t's incident.
func (e *engine) submit(ctx context.Context, t *target, r probe.Result, sev alert.Severity, action string) {
	e.submitWith(ctx, t, r, sev, action, "")
}

// submitWith raises t's incident with diagnostics output attached.
func (e *engine) submitWith(ctx context.Context, t *target, r probe.Result, sev alert.Severity, action, diag string) {
	a := e.newAlert(t, r, alert.Trigger, t.check.cond, sev, "unhealthy: "+describe(t), action)
	if diag != "" {
		a.Details["diagnostics"] = diag
	}
	e.send(ctx, a)
}

// submitBudget pages that t's process spent its restart budget.
func (e *engine) submitBudget(ctx context.Context, t *target, r probe.Result, action string) {
	a := e.newAlert(t, r, alert.Trigger, alert.CondBudget, alert.Critical,
		"restart budget spent: "+t.proc.FullName()+" still fails "+t.check.cfg.Name, action)
	e.send(ctx, a)
}

// resolve closes t's incidents once its check passes again.
func (e *engine) resolve(t *target, r probe.Result) {
	ctx := e.bg
	e.mu.Lock()
	t.lastAction, t.actionAt = "recovered", e.now()
	budgetSpent := t.budget.Verdict == governor.Spent
	e.mu.Unlock()
	e.send(ctx, e.newAlert(t, r, alert.Resolve, t.check.cond, alert.Warning, "healthy again: "+t.check.cfg.Name+" on "+t.proc.FullName(), ""))
	if budgetSpent {
		e.send(ctx, e.newAlert(t, r, alert.Resolve, alert.CondBudget, alert.Critical, "healthy again: "+t.proc.FullName(), ""))
	}
	e.writeStatus()
}

func (e *engine) send(ctx context.Context, a *alert.Alert) {
	if err := e.alerts.Submit(ctx, a); err != nil {
		e.log.Error().Err(err).Str("key", a.Key).Str("summary", a.Summary).Msg("alert not committed: it is in this log only")
	}
}
