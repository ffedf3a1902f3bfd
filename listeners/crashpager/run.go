package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alertmanager"
	"github.com/superguard/superguard/pkg/alert/notify"
	"github.com/superguard/superguard/pkg/alert/pipeline"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Run is the listener: it loads the config, opens the state store, starts
// the alert senders, the dead-man pinger and the Watchdog in the
// background, and runs the protocol loop on stdin/stdout until EOF or ctx
// ends. Undelivered alerts stay in the outbox for the next start.
func Run(ctx context.Context, o options, stdin io.Reader, stdout io.Writer, log zerolog.Logger) error {
	shared, cfg, err := loadConfig(o, os.Getenv)
	if err != nil {
		return err
	}
	notifiers, err := notify.Build(shared, log)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	statePath := state.Path(o.statePath, shared.StatePath)
	// A store that cannot be opened must not stop the listener: the
	// pipeline then logs every alert as an error (the last resort), and
	// events are still acknowledged.
	store, err := state.Open(ctx, statePath)
	if err != nil {
		log.Error().Err(err).Str("state", statePath).Msg("state store unavailable: alerts go to this log only")
		store = nil
	} else {
		defer store.Close()
	}
	pipe, err := pipeline.New(pipeline.Options{
		Store: store, Config: shared, Notifiers: notifiers, Logger: log, Listener: listenerName,
	})
	if err != nil {
		return err
	}
	sv, err := supervisorClient(shared)
	if err != nil {
		return err
	}
	instance := eventlistener.DefaultInstance()
	deps := crashesDeps{
		Host: shared.Host, Self: os.Getenv("SUPERVISOR_PROCESS_NAME"), Instance: instance,
		Submitter: pipe, PID: os.Getpid(), Logger: log,
	}
	if store != nil {
		deps.Heartbeats = store
	}
	elOpts := eventlistener.Options{
		Dialect: o.dialect, Logger: log, Instance: instance,
		StateFile: eventsStatePath(o.eventsState),
	}
	if sv != nil {
		deps.Supervisor = sv
		elOpts.Processes = sv
		elOpts.ReconcileOnStart = true
	} else {
		log.Warn().Msg("no supervisord URL ($SUPERVISOR_SERVER_URL or supervisor.url): alerts carry no exit status or log tail, and dropped events cannot be reconciled")
	}
	c, err := newCrashes(cfg, deps)
	if err != nil {
		return err
	}
	if store != nil {
		if incs, err := store.OpenIncidents(ctx); err != nil {
			log.Error().Err(err).Msg("open incidents not read: a crash from before this start will not resolve by itself")
		} else if n := c.restoreOpen(incs); n > 0 {
			log.Info().Int("incidents", n).Msg("resuming open incidents")
		}
	}

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() {
		stopBG()
		wg.Wait()
	}()
	wg.Go(func() {
		if err := pipe.Run(bg); err != nil && bg.Err() == nil {
			log.Error().Err(err).Msg("alert senders stopped")
		}
	})
	if cfg.DeadMan.enabled() {
		wg.Go(func() { newDeadMan(cfg.DeadMan, nil, log).run(bg) })
	}
	if targets := amTargets(notifiers); len(targets) > 0 && !cfg.Watchdog.Disabled {
		wg.Go(func() { newWatchdog(targets, shared.Host, cfg.Watchdog.Interval, log).run(bg) })
	}
	log.Info().Str("state", statePath).Str("host", shared.Host).Int("sinks", len(notifiers)).
		Dur("stable_for", cfg.StableFor).Int("spree_threshold", cfg.SpreeThreshold).Dur("spree_window", cfg.SpreeWindow).
		Msg("crashpager started")
	return eventlistener.Run(ctx, stdin, stdout, c, elOpts)
}

// supervisorClient connects to the supervisord that runs crashpager
// ($SUPERVISOR_SERVER_URL and SUPERVISOR_* credentials), else to the one the
// shared config names. It returns nil when neither is set.
func supervisorClient(shared *config.Config) (*supervisor.Client, error) {
	sc := supervisor.ConfigFromEnv()
	if sc.URL == "" {
		sc.URL = shared.Supervisor.URL
	}
	if sc.URL == "" {
		return nil, nil
	}
	if sc.Username == "" && sc.Password == "" && sc.PasswordFile == "" {
		sc.Username = shared.Supervisor.Username
		sc.Password = shared.Supervisor.Password.Value()
	}
	sc.Timeout = time.Second
	c, err := supervisor.New(sc)
	if err != nil {
		return nil, fmt.Errorf("supervisord client: %w", err)
	}
	return c, nil
}

// amTargets lists the Alertmanager sinks, for the Watchdog.
func amTargets(notifiers map[string]alert.Notifier) []amTarget {
	var out []amTarget
	for _, name := range slices.Sorted(maps.Keys(notifiers)) {
		if am, ok := notifiers[name].(*alertmanager.Notifier); ok {
			t := amTarget{Sink: name}
			t.URLs, t.Username, t.Password, t.Timeout = am.Cluster()
			out = append(out, t)
		}
	}
	return out
}
