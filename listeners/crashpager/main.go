package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"time"
	_ "time/tzdata" // quiet hours' and maintenance windows' time zones work on hosts without /usr/share/zoneinfo

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

func main() {
	listener.Main(spec)
}

// spec is crashpager on the listener skeleton: the state store and the
// alert pipeline, supervisord optional (alerts carry less detail without
// it), reconciled at start-up.
var spec = listener.Spec[Config]{
	Parts: listener.Parts{
		Name:  listenerName,
		File:  sections.File,
		Store: durable.Opener{Alerts: true},
		Needs: listener.Needs{
			// Calls made before an ack (exit status, log tail) have their
			// own shorter deadline, tail_timeout.
			SupervisorTimeout: time.Second,
			ReconcileOnStart:  true,
		},
	},
	Summary: "superguard's crash and fatal alerter",
	Flags:   flags,
	Prepare: func(c *Config) error { return prepareConfig(c, os.Getenv) },
	// A bare word in these was a program name only before the one
	// selector syntax.
	Selectors: func(c *Config) []listener.Selector {
		return []listener.Selector{
			{Field: "listeners.crashpager.include", Patterns: c.Include},
			{Field: "listeners.crashpager.exclude", Patterns: c.Exclude},
			{Field: "listeners.crashpager.listeners", Patterns: c.Listeners, Defaulted: true},
		}
	},
	// A pattern of include or exclude that selects no process is a typo
	// or a program gone: crashpager would watch less than the operator
	// thinks (or exclude nothing).
	Check: func(c *Config, procs []supervisor.ProcessInfo) error {
		return errors.Join(append(procmatch.UnmatchedErrors("listeners.crashpager.include", c.Include, procs),
			procmatch.UnmatchedErrors("listeners.crashpager.exclude", c.Exclude, procs)...)...)
	},
	New: newListener,
}

// flags are crashpager's overrides of its YAML section.
func flags(fs *flag.FlagSet) func(*Config) {
	stableFor := fs.Duration("stable-for", 0, "override listeners.crashpager.stable_for")
	spreeWindow := fs.Duration("spree-window", 0, "override listeners.crashpager.spree_window")
	spreeThreshold := fs.Int("spree-threshold", 0, "override listeners.crashpager.spree_threshold")
	include := fs.String("include", "", "override listeners.crashpager.include (comma-separated patterns)")
	exclude := fs.String("exclude", "", "override listeners.crashpager.exclude (comma-separated patterns)")
	return func(c *Config) {
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "stable-for":
				c.StableFor = *stableFor
			case "spree-window":
				c.SpreeWindow = *spreeWindow
			case "spree-threshold":
				c.SpreeThreshold = *spreeThreshold
			case "include":
				c.Include = listener.SplitList(*include)
			case "exclude":
				c.Exclude = listener.SplitList(*exclude)
			}
		})
	}
}

// newListener builds the crash logic on the skeleton's parts, resumes the
// incidents left open by a previous run, and starts the dead-man pinger and
// the Watchdog in the background.
func newListener(ctx context.Context, env *listener.Env, cfg Config) (eventlistener.Handler, error) {
	log, parts := env.Log, durable.Of(env)
	deps := crashesDeps{
		Host: env.Config.Host, Self: os.Getenv("SUPERVISOR_PROCESS_NAME"), Instance: env.Instance,
		Submitter: parts.Alerts, Heartbeats: parts.Store, Logger: log,
	}
	if env.Supervisor != nil {
		deps.Supervisor = env.Supervisor
	}
	c, err := newCrashes(cfg, deps)
	if err != nil {
		return nil, err
	}
	if store, err := parts.Store.Get(ctx); err == nil {
		if incs, err := store.OpenIncidents(ctx); err != nil {
			log.Error().Err(err).Msg("open incidents not read: a crash from before this start will not resolve by itself")
		} else {
			if n := c.restoreOpen(incs); n > 0 {
				log.Info().Int("incidents", n).Msg("resuming open incidents")
			}
			n, err := c.restoreExits(ctx, store, incs, time.Now())
			if err != nil {
				log.Error().Err(err).Msg("recent exits not read: a restart spree counts from this start")
			}
			if n > 0 {
				log.Info().Int("exits", n).Msg("restart spree windows restored from the ledger")
			}
		}
	}
	// The liveness signals go silent while alerts cannot be stored or
	// delivered, so that the external monitor sees the host unhealthy.
	healthy := func(ctx context.Context) error {
		store, err := parts.Store.Get(ctx)
		if err != nil {
			return err
		}
		return store.DeliveryHealth(ctx, time.Now(), cfg.Watchdog.DegradedAfter)
	}
	if cfg.DeadMan.Enabled() {
		// Scrubbed from everything captured, as the sinks' secrets are (the
		// URL, and the parts of it long enough to be a token: a path like
		// "ping" must not blank out every "ping" in an alert).
		for i, sec := range urlSecrets(cfg.DeadMan.URL) {
			if i == 0 || len(sec) >= 12 {
				env.Config.AddSecret(sec)
			}
		}
		d := newDeadMan(cfg.DeadMan, nil, log)
		env.Go(beacon{name: "dead-man ping", interval: d.interval, send: d.ping, healthy: healthy,
			log: log.With().Str("component", "deadman").Logger()}.run)
	}
	if sinks := amSinks(parts.Alerts.Notifiers); len(sinks) > 0 && !cfg.Watchdog.Disabled {
		w := newWatchdog(sinks, env.Config.Host, cfg.Watchdog.Interval)
		env.Go(beacon{name: "watchdog alert", interval: w.interval, send: w.post, healthy: healthy,
			log: log.With().Str("component", "watchdog").Logger()}.run)
	}
	log.Info().Str("state", parts.Store.Path()).Str("host", env.Config.Host).Int("sinks", len(env.Config.Sinks)).
		Dur("stable_for", cfg.StableFor).Int("spree_threshold", cfg.SpreeThreshold).Dur("spree_window", cfg.SpreeWindow).
		Msg("crashpager started")
	return c, nil
}
