package listener

import (
	"context"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/eventlistener"
)

// serve runs the event listener on io.Stdin and io.Stdout until stdin
// closes or ctx ends, then lets background work finish within the grace.
func (s *Spec[S]) serve(ctx context.Context, cl *cmdLine[S], io IO) error {
	env, err := Open(ctx, s.Name, cl.common, s.Needs, Listening, io.Stderr)
	if err != nil {
		if env == nil {
			logStartError(io, s.Name, cl.common.LogLevel, err)
		}
		return err
	}
	defer env.Close()
	log := env.Log
	sec, err := s.section(env.Config, cl)
	if err != nil {
		log.Error().Err(err).Msg("configuration")
		return usageError{err}
	}
	// Background work outlives a SIGTERM by the grace.
	stopBG := context.AfterFunc(ctx, func() { time.AfterFunc(s.Needs.Grace, env.cancel) })
	defer stopBG()
	opts := eventlistener.Options{Dialect: cl.dialect, Logger: log, ReconcileOnStart: s.Needs.ReconcileOnStart}
	if s.Needs.Store {
		env.Instance = eventlistener.DefaultInstance()
		opts.Instance = env.Instance
		if s.Needs.EventsState != nil {
			opts.StateFile = s.Needs.EventsState(env.StatePath)
		}
	}
	switch cl.eventsState {
	case "":
	case "none":
		opts.StateFile = ""
	default:
		opts.StateFile = cl.eventsState
	}
	if env.Supervisor != nil {
		opts.Processes = env.Supervisor
	} else if opts.ReconcileOnStart {
		log.Warn().Msg("no supervisord URL ($SUPERVISOR_SERVER_URL or the config's supervisor.url): events carry less detail, and dropped events cannot be reconciled")
		opts.ReconcileOnStart = false
	}
	if env.Alerts != nil {
		env.Go(env.Alerts.Run)
	}
	h, err := s.New(ctx, env, sec)
	if err != nil {
		log.Error().Err(err).Msg("configuration")
		return usageError{err}
	}
	if env.Store != nil {
		h = withHeartbeat(h, env.Store, s.Name, log)
	}
	err = eventlistener.Run(ctx, io.Stdin, io.Stdout, h, opts)
	// stdin closed or a protocol error: let the work in hand finish.
	stopBG()
	grace := time.AfterFunc(s.Needs.Grace, env.cancel)
	defer grace.Stop()
	if d, ok := h.(Drainer); ok {
		d.Drain()
	}
	env.cancel()
	if st, ok := h.(Stopper); ok {
		st.Stop()
	}
	if err != nil {
		log.Error().Err(err).Msg(s.Name + " stopped")
	}
	return err
}

// logStartError logs an error from before the Env existed, as JSON when a
// logger can be built at all.
func logStartError(io IO, name, level string, err error) {
	log := zerolog.New(io.Stderr).With().Timestamp().Str("listener", name).Logger()
	log.Error().Err(err).Msg("configuration")
}

// heartbeat records the listener's heartbeat (the last TICK it handled) in
// the state store, for crashpager's watch of the watchers, after the
// wrapped handler has handled the TICK. A failure is logged: it must not
// stall the event loop.
type heartbeat struct {
	inner eventlistener.Handler
	store *Store
	name  string
	log   zerolog.Logger
}

// reconcilingHeartbeat is heartbeat over a handler that reconciles.
type reconcilingHeartbeat struct {
	*heartbeat
	eventlistener.Reconciler
}

// withHeartbeat wraps h, keeping its optional interfaces reachable.
func withHeartbeat(h eventlistener.Handler, store *Store, name string, log zerolog.Logger) eventlistener.Handler {
	hb := &heartbeat{inner: h, store: store, name: name, log: log}
	if r, ok := h.(eventlistener.Reconciler); ok {
		return reconcilingHeartbeat{heartbeat: hb, Reconciler: r}
	}
	return hb
}

// HandleEvent implements eventlistener.Handler.
func (h *heartbeat) HandleEvent(ctx context.Context, ev *eventlistener.Event) error {
	err := h.inner.HandleEvent(ctx, ev)
	if ev.Tick != nil {
		h.beat(ctx, ev.Tick.When)
	}
	return err
}

func (h *heartbeat) beat(ctx context.Context, tick time.Time) {
	ctx, cancel := context.WithTimeout(ctx, beatTimeout)
	defer cancel()
	s, err := h.store.Get(ctx)
	if err == nil {
		err = s.Beat(ctx, h.name, tick, os.Getpid(), time.Now())
	}
	if err != nil {
		h.log.Error().Err(err).Msg("record heartbeat")
	}
}

// Drain implements Drainer.
func (h *heartbeat) Drain() {
	if d, ok := h.inner.(Drainer); ok {
		d.Drain()
	}
}

// Stop implements Stopper.
func (h *heartbeat) Stop() {
	if s, ok := h.inner.(Stopper); ok {
		s.Stop()
	}
}
