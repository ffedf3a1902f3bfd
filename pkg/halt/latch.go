package halt

import (
	"context"
	"time"

	"github.com/superguard/superguard/pkg/state"
)

// StoreLatch is the halt latch kept in the shared state store. Any listener
// or command reads it (Halted) before it starts or restarts a process:
// nothing is started while trading is halted. The store is opened through
// open on every call, so a store that cannot be opened yet (disk full,
// permissions) fails each call instead of the construction.
type StoreLatch struct {
	open func(context.Context) (*state.Store, error)
}

var _ Latch = StoreLatch{}

// NewStoreLatch returns the latch in the store open returns.
func NewStoreLatch(open func(context.Context) (*state.Store, error)) StoreLatch {
	return StoreLatch{open: open}
}

// Get implements Latch.
func (l StoreLatch) Get(ctx context.Context) (LatchState, error) {
	store, err := l.open(ctx)
	if err != nil {
		return LatchState{}, err
	}
	h, err := store.Halt(ctx)
	if err != nil {
		return LatchState{}, err
	}
	if h.Latched {
		return LatchState{Latched: true, Record: recordOf(h)}, nil
	}
	last, found, err := store.LastClear(ctx)
	if err != nil || !found {
		return LatchState{}, err
	}
	return LatchState{ResumedAt: last.At, ResumedBy: last.Actor}, nil
}

// Set implements Latch. A latch already set keeps its first cause.
func (l StoreLatch) Set(ctx context.Context, rec Record) error {
	store, err := l.open(ctx)
	if err != nil {
		return err
	}
	_, _, err = store.SetHalt(ctx, state.Halt{
		Reason:       rec.Reason,
		Process:      rec.Trigger,
		ProcessState: rec.TriggerState,
		TraceID:      rec.TraceID,
		Actor:        rec.By,
		Since:        rec.Since,
	})
	return err
}

// Complete implements Latch.
func (l StoreLatch) Complete(ctx context.Context, traceID string, at time.Time) error {
	store, err := l.open(ctx)
	if err != nil {
		return err
	}
	_, err = store.CompleteHalt(ctx, traceID, at)
	return err
}

// Clear implements Latch.
func (l StoreLatch) Clear(ctx context.Context, by string, at time.Time) error {
	store, err := l.open(ctx)
	if err != nil {
		return err
	}
	_, err = store.ClearHalt(ctx, by, "resumed", at)
	return err
}

func recordOf(h state.Halt) Record {
	return Record{
		Reason:       h.Reason,
		Trigger:      h.Process,
		TriggerState: h.ProcessState,
		By:           h.Actor,
		TraceID:      h.TraceID,
		Since:        h.Since,
		Completed:    h.Completed,
	}
}

// Halted reads the latch for a listener or command about to start or
// restart a process. It fails closed: on an error it reports halted too,
// with the error, so a caller that only looks at the bool never starts
// anything while it cannot know.
func Halted(ctx context.Context, l Latch) (bool, Record, error) {
	st, err := l.Get(ctx)
	if err != nil {
		return true, Record{}, err
	}
	return st.Latched, st.Record, nil
}
