package durable

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/notify"
	"github.com/superguard/superguard/pkg/alert/pipeline"
	"github.com/superguard/superguard/pkg/backoff"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/state"
)

// flushPoll is how often Flush looks at the outbox while it waits for a
// command's alerts to be delivered.
const flushPoll = 100 * time.Millisecond

// Alerts is the alert pipeline of a listener or an operator command, built
// on the state store once it opens. Submit never blocks on the network: it
// commits to the store's outbox (local SQLite), and Run's senders deliver.
// Until the store opens, Submit logs the whole alert (secrets redacted) as
// an error, the last resort, and returns pipeline.ErrNoStore.
type Alerts struct {
	// Notifiers are the sinks that could be built, by name.
	Notifiers map[string]alert.Notifier

	opts     pipeline.Options // without Store
	store    *Store
	log      zerolog.Logger
	fallback *pipeline.Pipeline // no store: logs each alert

	mu    sync.Mutex
	p     *pipeline.Pipeline
	err   error
	ready chan struct{} // closed once p or err is set
}

// newAlerts builds the fallback pipeline at once and the real one when the
// store first opens.
func newAlerts(store *Store, opts pipeline.Options) (*Alerts, error) {
	fallback, err := pipeline.New(opts)
	if err != nil {
		return nil, err
	}
	a := &Alerts{opts: opts, store: store, log: opts.Logger, fallback: fallback, ready: make(chan struct{})}
	store.OnOpen(a.attach)
	return a, nil
}

// attach builds the pipeline on the store that just opened.
func (a *Alerts) attach(s *state.Store) {
	opts := a.opts
	opts.Store = s
	p, err := pipeline.New(opts)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.p, a.err = p, err
	if err != nil {
		a.log.Error().Err(err).Msg("alert pipeline")
	}
	close(a.ready)
}

func (a *Alerts) pipeline() *pipeline.Pipeline {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.p
}

// Submit commits al durably (see Alerts).
func (a *Alerts) Submit(ctx context.Context, al *alert.Alert) error {
	p := a.pipeline()
	if p == nil {
		if _, err := a.store.Get(ctx); err == nil {
			p = a.pipeline()
		}
	}
	if p == nil {
		return a.fallback.Submit(ctx, al)
	}
	return p.Submit(ctx, al)
}

// Run delivers committed alerts until ctx ends, once the store has opened.
func (a *Alerts) Run(ctx context.Context) {
	select {
	case <-a.ready:
	case <-ctx.Done():
		return
	}
	p := a.pipeline()
	if p == nil {
		return
	}
	if err := p.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error().Err(err).Msg("alert senders stopped")
	}
}

// Flush runs the senders until no delivery is due any more or ctx ends, so
// an operator command's page leaves before the command exits (when a
// listener holds a sink's lease, that listener delivers it instead).
// Deliveries backing off after a failure are left to the listeners.
func (a *Alerts) Flush(ctx context.Context) {
	p := a.pipeline()
	s, err := a.store.Get(ctx)
	if p == nil || err != nil {
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
		rows, err := s.ListDeliveries(ctx, state.Filter{Statuses: []state.Status{state.Pending, state.Sending}})
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
		if due == 0 || !backoff.Sleep(ctx, flushPoll) {
			return
		}
	}
}

// buildAlerts builds the sinks of the shared config and the pipeline over
// store. A sink that cannot be built (its secret is not in this process's
// environment) does not stop the listener: halting and the latch never
// depend on alerting. It is logged, its notifications wait in the outbox,
// and -check names it.
func buildAlerts(shared *config.Config, store *Store, name string, log zerolog.Logger) (*Alerts, error) {
	notifiers, err := notify.Build(shared, log)
	if err != nil {
		log.Error().Err(err).Msg("alert sinks not built: their notifications wait in the outbox")
	}
	a, err := newAlerts(store, pipeline.Options{Config: shared, Notifiers: notifiers, Logger: log, Listener: name})
	if a != nil {
		a.Notifiers = notifiers
	}
	return a, err
}
