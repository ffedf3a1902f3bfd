package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
	_ "time/tzdata" // quiet hours' and maintenance windows' time zones work on hosts without /usr/share/zoneinfo

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/supervisor"
)

func main() {
	os.Exit(listener.Run(spec, os.Args[1:], listener.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}

// listenerName is haltguard's name in logs, alerts, heartbeats and the
// shared config's listeners map.
const listenerName = "haltguard"

// haltGrace is how long a halt in progress may go on once haltguard is told
// to stop: a restarted haltguard would finish it anyway, from the latch.
const haltGrace = 3 * time.Second

// parts are what haltguard takes from the skeleton, as a listener and in
// its operator commands: supervisord (required), the state store holding
// the latch, and the alert pipeline for its pages.
var parts = listener.Parts{
	Name: listenerName,
	Needs: listener.Needs{
		Supervisor:       listener.SupervisorRequired,
		ReconcileOnStart: true,
		Grace:            haltGrace,
		EventsState:      eventStateFile,
	},
	Store: durable.Opener{Alerts: true},
}

// spec is haltguard on the listener skeleton.
var spec = listener.Spec[section]{
	Name:    listenerName,
	Summary: "superguard's kill switch",
	Prepare: (*section).Validate,
	Check: func(s *section, procs []supervisor.ProcessInfo) error {
		hc, err := s.HaltConfig("")
		if err != nil {
			return err
		}
		if err := hc.Check(procs); err != nil {
			return sections.PrefixLines("listeners."+listenerName+".", err)
		}
		return nil
	},
	Sections: sections.Check,
	New:      newListener,
	Commands: []listener.Command{haltCmd, resumeCmd, statusCmd, gateCmd},
	Needs:    parts.Needs,
	Store:    parts.Store,
}

// newListener builds the engine and its guard on the skeleton's parts.
// Halts, checks and enforcement run on the guard's goroutines, which live
// on the background context for haltGrace after a SIGTERM.
func newListener(_ context.Context, env *listener.Env, s section) (eventlistener.Handler, error) {
	engine, pages, err := newEngine(env, s)
	if err != nil {
		return nil, err
	}
	g := NewGuard(env.Background(), engine, env.Supervisor, pages, env.Log)
	cfg := engine.Config()
	env.Log.Info().Strs("critical", cfg.Critical).Strs("targets", cfg.Targets).
		Bool("trigger_on_exited", cfg.TriggerOnExited).Str("supervisor", env.Supervisor.URL()).
		Str("state", durable.Of(env).Store.Path()).Msg("haltguard starting")
	return &handler{guard: g, log: env.Log}, nil
}

// newEngine builds the halt engine (supervisord, the latch in the store)
// and the pages it reports through (the alert pipeline).
func newEngine(env *listener.Env, s section) (*halt.Engine, *pages, error) {
	hc, pc, err := configs(&s, env.Config.Host)
	if err != nil {
		return nil, nil, err
	}
	d := durable.Of(env)
	p, err := newPages(pc.Host, pc.Runbook, d.Alerts, env.Log)
	if err != nil {
		return nil, nil, err
	}
	e, err := halt.New(hc, halt.Deps{Supervisor: env.Supervisor, Latch: halt.NewStoreLatch(d.Store.Get), Pager: p, Logger: env.Log})
	return e, p, err
}

// eventStateFile is where the protocol loop keeps its delivery tracking:
// next to the state store.
func eventStateFile(env *listener.Env) string {
	return filepath.Join(filepath.Dir(durable.Of(env).Store.Path()), listenerName+".events.json")
}

// openSection reads haltguard's section for an operator command.
func openSection(env *listener.Env) (section, error) {
	var s section
	if err := env.Config.Listener(listenerName, &s); err != nil {
		return s, err
	}
	if err := s.Validate(); err != nil {
		if env.ConfigPath != "" {
			return s, fmt.Errorf("config %s: %w", env.ConfigPath, err)
		}
		return s, fmt.Errorf("config: %w", err)
	}
	return s, nil
}
