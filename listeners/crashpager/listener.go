package main

import (
	"context"
	"strconv"

	"github.com/superguard/superguard/pkg/eventlistener"
)

// HandleEvent implements eventlistener.Handler: PROCESS_STATE_* events feed
// the crash logic, TICK_* events the periodic checks; others are ignored.
// It always returns nil: an alert that cannot be committed has been logged
// with its full content, and FAILing the event would only stall the loop.
func (c *crashes) HandleEvent(ctx context.Context, ev *eventlistener.Event) error {
	switch {
	case ev.State != nil:
		c.handleState(ctx, stateChange{
			source:   c.eventID(ev),
			group:    ev.State.Group,
			process:  ev.State.Process,
			from:     ev.State.FromState,
			to:       ev.State.ToState,
			expected: ev.State.Expected,
			pid:      ev.State.PID,
			tries:    ev.State.Tries,
		})
	case ev.Tick != nil:
		c.tick(ctx, c.eventID(ev))
	}
	return nil
}

// Reconcile implements eventlistener.Reconciler.
func (c *crashes) Reconcile(ctx context.Context, r eventlistener.Reconciliation) error {
	if r.Missed > 0 {
		c.log.Warn().Str("pool", r.Pool).Int64("missed", r.Missed).Msg("events dropped by supervisord: reconciling")
	}
	c.reconcile(ctx, r.Reason, r.Processes)
	return nil
}

// eventID identifies an event across re-sends: the supervisord instance,
// the pool and the serial. It becomes the SourceID of the alerts the event
// raises, so an event supervisord re-sends (after a FAIL, or to a restarted
// crashpager) adds nothing.
func (c *crashes) eventID(ev *eventlistener.Event) string {
	return c.instance + "/" + ev.Pool + "/" + strconv.FormatInt(ev.Serial, 10)
}
