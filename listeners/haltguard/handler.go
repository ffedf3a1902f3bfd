package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/supervisor"
)

// guard is the part of *Guard the handler drives.
type guard interface {
	OnState(ctx context.Context, ch StateChange)
	Check(ctx context.Context, procs []supervisor.ProcessInfo, source string)
	Tick()
	Remote(ctx context.Context, typ, data string) bool
	Wait()        // for halts, checks and enforcement in hand
	WaitWatches() // for the pid watches, once the background context ended
}

var _ guard = (*Guard)(nil)

// handler turns supervisord's events into calls on the guard. Nothing in it
// waits on a network call: halts, checks and enforcement run on the guard's
// goroutines; the only wait is for a new halt's latch write (local SQLite),
// so an event is acknowledged once the latch is durable.
type handler struct {
	guard guard
	log   zerolog.Logger
}

var (
	_ eventlistener.Handler    = (*handler)(nil)
	_ eventlistener.Reconciler = (*handler)(nil)
)

// HandleEvent implements eventlistener.Handler. It always returns nil: a
// FAIL would only make supervisord re-send the event at once.
func (h *handler) HandleEvent(ctx context.Context, ev *eventlistener.Event) error {
	switch {
	case ev.State != nil:
		to, err := supervisor.ParseProcessState(ev.State.ToState)
		if err != nil {
			// Neither trust nor ignore it: read the real states.
			h.log.Warn().Err(err).EmbedObject(ev).Msg("unknown process state: checking every process")
			h.guard.Tick()
			return nil
		}
		h.guard.OnState(ctx, StateChange{
			Process:  ev.State.Name(),
			From:     ev.State.FromState,
			To:       to,
			Expected: ev.State.Expected,
			PID:      ev.State.PID,
			Time:     time.Now(),
		})
	case ev.Tick != nil:
		h.guard.Tick()
	case ev.Remote != nil:
		if h.guard.Remote(ctx, ev.Remote.Type, ev.Remote.Data) {
			h.log.Info().Str("type", ev.Remote.Type).Msg("remote command")
		}
	}
	return nil
}

// Reconcile implements eventlistener.Reconciler: on start-up and after
// supervisord dropped events, check the critical programs and the latch
// against the real process states.
func (h *handler) Reconcile(ctx context.Context, r eventlistener.Reconciliation) error {
	if r.Missed > 0 {
		h.log.Warn().Str("pool", r.Pool).Int64("missed", r.Missed).Msg("events dropped by supervisord: checking process states")
	}
	h.guard.Check(ctx, r.Processes, r.Reason)
	return nil
}

// Drain implements listener.Drainer: a halt in hand finishes (within the
// skeleton's grace) before haltguard exits.
func (h *handler) Drain() { h.guard.Wait() }

// Stop implements listener.Stopper.
func (h *handler) Stop() { h.guard.WaitWatches() }
