package main

import (
	"context"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
)

// handler acknowledges every event at once: rounds and actions run in the
// background.
type handler struct{ e *engine }

var (
	_ eventlistener.Reconciler = (*handler)(nil)
	_ listener.Stopper         = (*handler)(nil)
)

// HandleEvent implements eventlistener.Handler.
func (h *handler) HandleEvent(_ context.Context, ev *eventlistener.Event) error {
	switch {
	case ev.Tick != nil:
		h.e.tick()
	case ev.State != nil:
		h.e.table.Changed(ev.State.Group, ev.State.Process, ev.State.ToState, ev.State.PID)
	}
	return nil
}

// Reconcile implements eventlistener.Reconciler: a round at start, and
// after events were dropped.
func (h *handler) Reconcile(context.Context, eventlistener.Reconciliation) error {
	h.e.table.Relist()
	h.e.round.Go(&h.e.wg, func() { h.e.runRound(h.e.bg) })
	return nil
}

// Stop implements listener.Stopper.
func (h *handler) Stop() { h.e.wg.Wait() }
