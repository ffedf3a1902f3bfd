package main

import (
	"context"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
)

// handler acknowledges every event at once: rounds, probes and actions run
// in the background.
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
	case ev.Comm != nil && ev.Comm.Channel == "stdout":
		group := ev.Comm.Group
		if group == "" {
			group = ev.Comm.Process
		}
		h.e.heartbeat(group+":"+ev.Comm.Process, ev.Comm.PID, h.e.now())
	}
	return nil
}

// Reconcile implements eventlistener.Reconciler: a round at start, and
// after events were dropped.
func (h *handler) Reconcile(context.Context, eventlistener.Reconciliation) error {
	h.e.table.Relist()
	h.e.tick()
	return nil
}

// Stop implements listener.Stopper.
func (h *handler) Stop() {
	h.e.wg.Wait()
	if h.e.notify != nil {
		h.e.notify.close()
	}
}
