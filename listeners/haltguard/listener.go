package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// haltGrace is how long a halt in progress may go on once haltguard is told
// to stop: a restarted haltguard would finish it anyway, from the latch.
const haltGrace = 3 * time.Second

// runListener runs haltguard as supervisord's event listener on stdin and
// stdout until stdin closes or ctx ends.
func runListener(ctx context.Context, s *settings, stdin io.Reader, stdout io.Writer, log zerolog.Logger) error {
	client, err := supervisor.New(s.Supervisor)
	if err != nil {
		return fmt.Errorf("supervisord client: %w", err)
	}
	defer client.Close()

	// Background work (halts, enforcement, alert delivery) outlives a
	// SIGTERM by haltGrace.
	bg, cancelBG := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBG()
	stopBG := context.AfterFunc(ctx, func() { time.AfterFunc(haltGrace, cancelBG) })
	defer stopBG()

	pipe := newAlerts(s.Shared, log)
	stores := newLazyStore(s.StatePath, pipe.attach)
	if _, err := stores.get(ctx); err != nil {
		log.Error().Err(err).Msg("running degraded: halts work, the latch is kept in memory and alerts go to stderr until the store opens")
	}
	defer func() {
		if err := stores.close(); err != nil {
			log.Error().Err(err).Msg("close state store")
		}
	}()

	pages, err := newPages(s.Pages.Host, s.Pages.Runbook, pipe, log)
	if err != nil {
		return err
	}
	engine, err := halt.New(s.Halt, halt.Deps{Supervisor: client, Latch: halt.NewStoreLatch(stores.get), Pager: pages, Logger: log})
	if err != nil {
		return err
	}
	g := NewGuard(bg, engine, client, pages, log)
	var senders sync.WaitGroup
	senders.Go(func() { pipe.run(bg) })

	h := &handler{
		guard: g,
		beat:  func(ctx context.Context) (beater, error) { return stores.get(ctx) },
		log:   log,
	}
	log.Info().Strs("critical", s.Halt.Critical).Strs("targets", s.Halt.Targets).
		Bool("trigger_on_exited", s.Halt.TriggerOnExited).Str("supervisor", client.URL()).
		Str("state", s.StatePath).Msg("haltguard starting")
	err = eventlistener.Run(ctx, stdin, stdout, h, eventlistener.Options{
		Logger:           log,
		Processes:        client,
		StateFile:        eventStateFile(s.StatePath),
		ReconcileOnStart: true,
	})
	// stdin closed or a protocol error: let the halt in hand finish.
	stopBG()
	time.AfterFunc(haltGrace, cancelBG)
	g.Wait()
	cancelBG()
	g.WaitWatches()
	senders.Wait()
	return err
}

// alertPipeline is the alert pipeline as haltguard uses it: Submit commits
// an alert durably (locally); Run delivers committed alerts to the sinks.
type alertPipeline interface {
	Submit(ctx context.Context, a *alert.Alert) error
	Run(ctx context.Context) error
}

// alerts is the alert pipeline, built once the state store opens. Until it
// can be (a store that cannot be opened), Submit fails and the halt engine
// logs the whole alert on stderr.
type alerts struct {
	shared *config.Config
	log    zerolog.Logger

	mu    sync.Mutex
	p     alertPipeline
	store *state.Store
	err   error
	ready chan struct{} // closed once p or err is set
}

var _ submitter = (*alerts)(nil)

func newAlerts(shared *config.Config, log zerolog.Logger) *alerts {
	return &alerts{shared: shared, log: log, ready: make(chan struct{})}
}

// attach builds the pipeline on the store that just opened.
func (a *alerts) attach(store *state.Store) {
	p, err := newPipeline(store, a.shared, a.log)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.p, a.store, a.err = p, store, err
	if err != nil {
		a.log.Error().Err(err).Msg("alert pipeline")
	}
	close(a.ready)
}

// Submit commits an alert to the pipeline.
func (a *alerts) Submit(ctx context.Context, al *alert.Alert) error {
	a.mu.Lock()
	p, err := a.p, a.err
	a.mu.Unlock()
	switch {
	case p != nil:
		return p.Submit(ctx, al)
	case err != nil:
		return err
	}
	return errors.New("alert pipeline unavailable: the state store has not opened")
}

// run delivers alerts until ctx ends, once the pipeline exists.
func (a *alerts) run(ctx context.Context) {
	select {
	case <-a.ready:
	case <-ctx.Done():
		return
	}
	a.mu.Lock()
	p := a.p
	a.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error().Err(err).Msg("alert senders stopped")
	}
}
