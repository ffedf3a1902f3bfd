package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/superguard/superguard/internal/procexec"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/probe"
)

// act carries out t's policy once its check failed: alert, halt, or
// restart through the governor.
func (e *engine) act(t *target, r probe.Result) {
	defer func() {
		e.mu.Lock()
		t.acting = false
		e.mu.Unlock()
		e.writeStatus()
	}()
	ctx := e.bg
	cfg := t.check.cfg
	switch cfg.Policy {
	case sections.PolicyAlert:
		e.setAction(t, StateUnhealthy, "alerted")
		e.submit(ctx, t, r, alert.Warning, "alerted (policy alert: no restart)")
		return
	case sections.PolicyHalt:
		action := e.actor().AskHalt(ctx, t.proc.FullName(), describe(t))
		e.setAction(t, StateHaltAsked, action)
		e.submit(ctx, t, r, alert.Critical, action)
		return
	}
	d := e.gov.Ask(ctx, t.proc.FullName())
	e.mu.Lock()
	t.budget = d
	e.mu.Unlock()
	switch d.Verdict {
	case governor.Allow:
		e.restart(ctx, t, r, d)
	case governor.Wait:
		if e.setAction(t, StateBackoff, "restart deferred: "+d.String()) {
			e.submit(ctx, t, r, alert.Warning, "restart deferred: "+d.String())
		}
	case governor.Spent:
		if !e.setAction(t, StateSpent, d.String()) {
			return
		}
		action := e.actor().Spent(ctx, t.proc.FullName(), d, cfg.Critical, t.last.Evidence)
		e.submit(ctx, t, r, alert.Warning, "not restarted: "+d.String())
		e.submitBudget(ctx, t, r, action)
	default: // halted or unknown: fail closed, restart nothing
		if e.setAction(t, StatePaused, d.String()) {
			e.submit(ctx, t, r, alert.Warning, d.String())
		}
	}
}

// setAction records what happened to t; it reports whether that is new
// (not the same action as last time), so that a repeated deferral is not
// re-alerted every round.
func (e *engine) setAction(t *target, s State, action string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := t.state != s || t.lastAction != action
	t.state, t.lastAction, t.actionAt = s, action, e.now()
	return changed
}

// restart runs the diagnostics and the pre-restart hook, restarts the
// process (from any state: a FATAL one is started), records the restart
// with the governor and runs the post-restart hook.
func (e *engine) restart(ctx context.Context, t *target, r probe.Result, d governor.Decision) {
	cfg := t.check.cfg
	e.setAction(t, StateRestarting, "restarting")
	var notes []string
	diag := ""
	if h := cfg.Diagnostics; h != nil {
		out, err := e.hook(ctx, h.Argv, h.Timeout, t.proc)
		diag = e.redact(out)
		if err != nil {
			notes = append(notes, "diagnostics: "+err.Error())
		}
	}
	if h := cfg.PreRestart; h != nil {
		if _, err := e.hook(ctx, h.Argv, h.Timeout, t.proc); err != nil {
			notes = append(notes, "pre_restart: "+err.Error())
		}
	}
	failure, note := e.actor().Restart(ctx, t.proc.FullName())
	if failure != "" {
		e.setAction(t, StateUnhealthy, failure)
		e.submitWith(ctx, t, r, alert.Warning, strings.Join(append([]string{failure}, notes...), "; "), diag)
		return
	}
	if note != "" {
		notes = append(notes, note)
	}
	if h := cfg.PostRestart; h != nil {
		if _, err := e.hook(ctx, h.Argv, h.Timeout, t.proc); err != nil {
			notes = append(notes, "post_restart: "+err.Error())
		}
	}
	now := e.now()
	action := fmt.Sprintf("restarted %s: %s (%d of %d restarts used)", now.Format(time.TimeOnly), t.trigger(), d.Used+1, d.Max)
	e.mu.Lock()
	t.state, t.lastAction, t.actionAt = StateStarting, action, now
	t.cool = now.Add(cfg.Cooldown)
	t.history, t.passes = nil, 0
	t.budget.Used++
	e.mu.Unlock()
	e.log.Warn().Str("process", t.proc.FullName()).Str("check", cfg.Name).Str("evidence", e.redact(r.Evidence)).Msg(action)
	e.submitWith(ctx, t, r, alert.Warning, strings.Join(append([]string{action}, notes...), "; "), diag)
}

// trigger says why the check failed: "3 consecutive failures" or "3 of the
// last 5 probes failed", and the last evidence.
func (t *target) trigger() string {
	cfg := t.check.cfg
	why := fmt.Sprintf("%d consecutive failures", cfg.Failures)
	if cfg.Within > cfg.Failures {
		why = fmt.Sprintf("%d of the last %d probes failed", t.failures(), cfg.Within)
	}
	return why + ": " + t.last.Evidence
}

// hook runs a diagnostics or restart hook and returns its output.
func (e *engine) hook(ctx context.Context, argv []string, timeout time.Duration, p probe.Process) (string, error) {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return probe.Run(hctx, argv, hookEnv(), p)
}

// hookEnv is the environment of hooks and command probes: enough to run,
// none of healthprobe's secrets.
func hookEnv() []string { return procexec.Env(os.Getenv, nil) }
