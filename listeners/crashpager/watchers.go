package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Heartbeats reads the listener heartbeat table of the shared state store:
// every superguard listener with a store records when it last handled a
// TICK (the listener skeleton does it, for crashpager too), so that
// crashpager can tell a listener that stopped acknowledging events (stuck
// in supervisord's UNKNOWN state, or wedged in a handler) from a live one.
type Heartbeats interface {
	// Heartbeats returns the latest heartbeat of every listener.
	Heartbeats(ctx context.Context) ([]state.Heartbeat, error)
}

// checkHeartbeats reports each watched listener whose last heartbeat is
// more than LatePeriods periods old, once per episode, and clears the mark
// when it beats again (maybeResolve then resolves the incident). A
// listener that never recorded a heartbeat is not judged, nor is one an
// operator stopped.
func (c *crashes) checkHeartbeats(ctx context.Context, source string, now time.Time) {
	hbs, err := c.hb.Heartbeats(ctx)
	if err != nil {
		c.log.Error().Err(err).Msg("heartbeats not read")
		return
	}
	for _, h := range hbs {
		if h.Listener == listenerName || h.Listener == c.self || !c.listeners.Match(h.Listener, h.Listener) {
			continue
		}
		p := c.proc(h.Listener, h.Listener)
		if p.state == "STOPPED" || p.state == "STOPPING" {
			continue
		}
		period := c.cfg.HeartbeatPeriod
		age := now.Sub(h.UpdatedAt)
		late := age > time.Duration(c.cfg.LatePeriods)*period
		switch {
		case late && !p.late:
			p.late = true
			d := map[string]string{
				"last_heartbeat": h.UpdatedAt.UTC().Format(time.RFC3339),
				"age":            age.Round(time.Second).String(),
				"period":         period.String(),
				"late_periods":   strconv.Itoa(c.cfg.LatePeriods),
			}
			if h.PID > 0 {
				d["pid"] = strconv.Itoa(h.PID)
			}
			if p.state != "" {
				d["state_now"] = p.state
			}
			c.submit(ctx, p, c.newAlert(source, p, alert.CondListener, alert.Critical, alert.Trigger,
				fmt.Sprintf("superguard listener %s has not handled a TICK for %s (expected every %s): stuck?",
					p.fullName(), age.Round(time.Second), period), d, ""))
		case !late && p.late:
			p.late = false
			c.log.Info().Str("process", p.fullName()).Msg("listener heartbeat back")
		}
	}
}

// reconcile updates what crashpager knows from supervisord's full process
// list, at start-up and whenever a poolserial gap shows that events were
// dropped. A FATAL whose event was lost is still reported; its SourceID is
// derived from the process's last start time, so reconciling the same FATAL
// again (after a crashpager restart) adds nothing. Unexpected exits that
// were dropped cannot be recovered (the process list does not say whether
// an exit was expected).
func (c *crashes) reconcile(ctx context.Context, reason string, infos []supervisor.ProcessInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, info := range infos {
		group := info.Group
		if group == "" {
			group = info.Name
		}
		if !c.watched(group, info.Name) {
			continue
		}
		p := c.proc(group, info.Name)
		prev := p.state
		p.state = info.State.String()
		switch info.State {
		case supervisor.ProcessRunning:
			if prev != "RUNNING" || p.runningSince.IsZero() {
				p.runningSince = startedAt(info, now)
			}
		case supervisor.ProcessFatal:
			p.runningSince = time.Time{}
			if p.fatalStart.Equal(info.Start) && !info.Start.IsZero() {
				continue
			}
			if p.open[alert.CondFatal] || p.open[alert.CondListener] {
				// Already reported (before a restart, too: restoreOpen):
				// an incident stays open until the process is stable.
				p.fatalStart = info.Start
				continue
			}
			if c.reconciledFatal(ctx, p, reason, info) {
				p.fatalStart = info.Start
			}
		default:
			p.runningSince = time.Time{}
		}
	}
}

// reconciledFatal reports a FATAL found in the process list and says
// whether the alert was committed. ctx carries the reconciliation's
// deadline, which the stderr tails of several FATAL processes can use up:
// the tail is fetched only while time is left, and the commit does not
// depend on that deadline (the pipeline bounds it with its own), so a FATAL
// is never dropped for want of a log tail.
func (c *crashes) reconciledFatal(ctx context.Context, p *proc, reason string, info supervisor.ProcessInfo) bool {
	source := fmt.Sprintf("reconcile:%s:fatal:%d", p.fullName(), info.Start.UnixNano())
	d := map[string]string{"to_state": "FATAL", "found_by": "reconciliation (" + reason + ")"}
	if info.SpawnErr != "" {
		d["spawn_error"] = info.SpawnErr
	}
	if info.Description != "" {
		d["description"] = info.Description
	}
	var tail string
	if c.cfg.TailBytes > 0 && ctx.Err() == nil {
		tail = c.inspect(ctx, p, false).tail
	}
	commitCtx := context.WithoutCancel(ctx)
	if p.listener {
		return c.submit(commitCtx, p, c.newAlert(source, p, alert.CondListener, alert.Critical, alert.Trigger,
			fmt.Sprintf("superguard listener %s is FATAL", p.fullName()), d, tail))
	}
	return c.submit(commitCtx, p, c.newAlert(source, p, alert.CondFatal, alert.Critical, alert.Trigger,
		fmt.Sprintf("%s is FATAL: supervisord gave up starting it", p.fullName()), d, tail))
}

// startedAt converts a RUNNING process's start time to the local clock,
// using the server's own "now" so that clock differences cancel out.
func startedAt(info supervisor.ProcessInfo, now time.Time) time.Time {
	if info.Start.IsZero() || info.Now.IsZero() || info.Now.Before(info.Start) {
		return now
	}
	return now.Add(-info.Now.Sub(info.Start))
}

// restoreOpen marks as open the incidents that crashpager raised on this
// host and that are still open in the ledger, so that a restarted
// crashpager still resolves them once their process is stable.
func (c *crashes) restoreOpen(incs []*state.Incident) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, inc := range incs {
		a := inc.Alert
		if inc.Status != state.IncidentOpen || inc.Listeners[listenerName] == 0 || a.Host != c.host || a.Program == "" {
			continue
		}
		switch a.Condition {
		case alert.CondExited, alert.CondSpree, alert.CondFatal, alert.CondListener:
		default:
			continue
		}
		group := a.Group
		if group == "" {
			group = a.Program
		}
		p := c.proc(group, a.Program)
		p.open[a.Condition] = true
		if p.traceID == "" {
			p.traceID = a.TraceID
		}
		n++
	}
	return n
}

// restoreExits refills the spree windows of the programs whose exited
// incident is still open from the ledger (every unexpected exit is recorded
// there under its event's id), so that a restart of crashpager does not
// start every spree count from zero: the spree still pages at the exit
// that crosses the threshold. Exits already part of an open spree incident
// stay counted in it.
func (c *crashes) restoreExits(ctx context.Context, store *state.Store, incs []*state.Incident, now time.Time) (int, error) {
	var errs []error
	n := 0
	for _, inc := range incs {
		a := inc.Alert
		if inc.Status != state.IncidentOpen || a.Condition != alert.CondExited || a.Host != c.host || a.Program == "" {
			continue
		}
		since := now.Add(-c.cfg.SpreeWindow)
		if inc.FirstSeen.After(since) {
			since = inc.FirstSeen.Add(-time.Nanosecond)
		}
		exits, err := store.ProcessedSince(ctx, inc.Key, since)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		group := a.Group
		if group == "" {
			group = a.Program
		}
		spreeKey := alert.Key(c.host, group+":"+a.Program, alert.CondSpree)
		inSpree, err := store.ProcessedSince(ctx, spreeKey, since)
		if err != nil {
			errs = append(errs, err)
		}
		c.mu.Lock()
		p := c.proc(group, a.Program)
		for _, e := range exits {
			p.exits.add(e.SourceID, e.At, c.cfg.SpreeWindow)
		}
		p.exits.prune(now, c.cfg.SpreeWindow)
		for i := range p.exits.exits {
			m := &p.exits.exits[i]
			m.inSpree = slices.ContainsFunc(inSpree, func(s state.Processed) bool { return s.SourceID == m.source })
		}
		n += len(p.exits.exits)
		c.mu.Unlock()
	}
	return n, errors.Join(errs...)
}
