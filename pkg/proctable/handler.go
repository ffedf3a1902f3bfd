package proctable

import (
	"context"

	"github.com/superguard/superguard/pkg/eventlistener"
)

// Handler is the event handler of a guard that works in rounds over the
// table (healthprobe, memguard): every event is acknowledged at once; a
// TICK calls Tick (which starts a round in the background), a
// PROCESS_STATE event goes to the table, a reconciliation (at start, and
// after events were dropped) relists the table and calls Tick; Other, when
// set, sees every other event. Stop waits with Wait.
type Handler struct {
	Table *Table
	Tick  func()
	Other func(ev *eventlistener.Event)
	Wait  func()
}

var _ eventlistener.Reconciler = (*Handler)(nil)

// HandleEvent implements eventlistener.Handler.
func (h *Handler) HandleEvent(_ context.Context, ev *eventlistener.Event) error {
	switch {
	case ev.Tick != nil:
		h.Tick()
	case ev.State != nil:
		h.Table.Changed(ev.State.Group, ev.State.Process, ev.State.ToState, ev.State.PID)
	case h.Other != nil:
		h.Other(ev)
	}
	return nil
}

// Reconcile implements eventlistener.Reconciler.
func (h *Handler) Reconcile(context.Context, eventlistener.Reconciliation) error {
	h.Table.Relist()
	h.Tick()
	return nil
}

// Stop implements listener.Stopper.
func (h *Handler) Stop() {
	if h.Wait != nil {
		h.Wait()
	}
}
