package main

import (
	"context"
	"time"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/state"
)

// storeLatch keeps the halt latch in the shared state store.
type storeLatch struct {
	stores *durable.Store
}

var _ halt.Latch = storeLatch{}

// Get implements halt.Latch.
func (l storeLatch) Get(ctx context.Context) (halt.LatchState, error) {
	store, err := l.stores.Get(ctx)
	if err != nil {
		return halt.LatchState{}, err
	}
	h, err := store.Halt(ctx)
	if err != nil {
		return halt.LatchState{}, err
	}
	if h.Latched {
		return halt.LatchState{Latched: true, Record: recordOf(h)}, nil
	}
	last, found, err := store.LastClear(ctx)
	if err != nil || !found {
		return halt.LatchState{}, err
	}
	return halt.LatchState{ResumedAt: last.At, ResumedBy: last.Actor}, nil
}

// Set implements halt.Latch. A latch already set keeps its first cause.
func (l storeLatch) Set(ctx context.Context, rec halt.Record) error {
	store, err := l.stores.Get(ctx)
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

// Complete implements halt.Latch.
func (l storeLatch) Complete(ctx context.Context, traceID string, at time.Time) error {
	store, err := l.stores.Get(ctx)
	if err != nil {
		return err
	}
	_, err = store.CompleteHalt(ctx, traceID, at)
	return err
}

// Clear implements halt.Latch.
func (l storeLatch) Clear(ctx context.Context, by string, at time.Time) error {
	store, err := l.stores.Get(ctx)
	if err != nil {
		return err
	}
	_, err = store.ClearHalt(ctx, by, "resumed", at)
	return err
}

func recordOf(h state.Halt) halt.Record {
	return halt.Record{
		Reason:       h.Reason,
		Trigger:      h.Process,
		TriggerState: h.ProcessState,
		By:           h.Actor,
		TraceID:      h.TraceID,
		Since:        h.Since,
		Completed:    h.Completed,
	}
}
