package listener

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/eventlistener"
)

// serve runs the event listener on io.Stdin and io.Stdout until stdin
// closes or ctx ends, then lets background work finish within the grace.
func (s *Spec[S]) serve(ctx context.Context, cl *cmdLine[S], io IO) error {
	env, err := Open(ctx, s.parts(), cl.common, Listening, io.Stderr)
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
	if env.Durable != nil {
		env.Instance = eventlistener.DefaultInstance()
		opts.Instance = env.Instance
	}
	if s.Needs.EventsState != nil {
		opts.StateFile = s.Needs.EventsState(env)
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
	if env.Durable != nil {
		env.Durable.Start(env)
	}
	h, err := s.New(ctx, env, sec)
	if err != nil {
		log.Error().Err(err).Msg("configuration")
		return usageError{err}
	}
	if env.Durable != nil {
		h = env.Durable.Wrap(h)
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
		log.Error().Err(err).Msg("listener stopped")
	}
	return err
}

// logStartError logs an error from before the Env existed, as JSON when a
// logger can be built at all.
func logStartError(io IO, name, level string, err error) {
	log := zerolog.New(io.Stderr).With().Timestamp().Str("listener", name).Logger()
	log.Error().Err(err).Msg("configuration")
}
