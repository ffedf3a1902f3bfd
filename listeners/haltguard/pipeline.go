package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert/notify"
	"github.com/superguard/superguard/pkg/alert/pipeline"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/state"
)

// flushPoll is how often an operator command looks at the outbox while it
// waits for its alerts to be delivered.
const flushPoll = 100 * time.Millisecond

// newPipeline builds the alert pipeline on an open store, with the sinks of
// the shared config.
func newPipeline(store *state.Store, shared *config.Config, log zerolog.Logger) (alertPipeline, error) {
	notifiers, err := notify.Build(shared, log)
	if err != nil {
		return nil, err
	}
	return pipeline.New(pipeline.Options{
		Store:     store,
		Config:    shared,
		Notifiers: notifiers,
		Logger:    log,
		Listener:  listenerName,
	})
}

// flush runs the senders until no delivery is due any more or ctx ends, so
// an operator command's page leaves before the command exits (when a
// listener holds a sink's lease, that listener delivers it instead).
// Deliveries backing off after a failure are left to the listeners.
func (a *alerts) flush(ctx context.Context) {
	a.mu.Lock()
	p, store := a.p, a.store
	a.mu.Unlock()
	if p == nil || store == nil {
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(rctx); err != nil && rctx.Err() == nil {
			a.log.Error().Err(err).Msg("alert senders stopped")
		}
	}()
	defer func() {
		cancel()
		<-done
	}()
	for {
		rows, err := store.ListDeliveries(ctx, state.Filter{Statuses: []state.Status{state.Pending, state.Sending}})
		if err != nil {
			a.log.Error().Err(err).Msg("read outbox")
			return
		}
		due := 0
		now := time.Now()
		for _, r := range rows {
			if r.Status == state.Sending || !r.NextAttemptAt.After(now) {
				due++
			}
		}
		if due == 0 || !sleepCtx(ctx, flushPoll) {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
