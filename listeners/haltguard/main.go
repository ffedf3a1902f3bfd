package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
	_ "time/tzdata" // quiet hours' and maintenance windows' time zones work on hosts without /usr/share/zoneinfo

	"github.com/prometheus/procfs"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/supervisor"
)

func main() {
	listener.Main(spec)
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
	File:  sections.File,
	Store: durable.Opener{Alerts: true},
}

// spec is haltguard on the listener skeleton.
var spec = listener.Spec[section]{
	Parts:   parts,
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
	New:      newListener,
	Commands: []listener.Command{haltCmd, resumeCmd, statusCmd, gateCmd},
}

// newListener builds the engine and its guard on the skeleton's parts.
// Halts, checks and enforcement run on the guard's goroutines, which live
// on the background context for haltGrace after a SIGTERM.
func newListener(ctx context.Context, env *listener.Env, s section) (eventlistener.Handler, error) {
	engine, pages, err := newEngine(env, s)
	if err != nil {
		return nil, err
	}
	cfg := engine.Config()
	for _, w := range s.Warnings() {
		env.Log.Warn().Msg(w)
	}
	// A kill switch whose critical programs or targets match nothing would
	// run silently and stop nothing: refuse to run, so that supervisord
	// marks it FATAL and crashpager pages. (A supervisord that cannot be
	// read now is the guard's to handle: it retries, pages that it is
	// blind, and halts once it can.)
	if procs, err := env.Supervisor.GetAllProcessInfo(ctx); err != nil {
		env.Log.Error().Err(err).Msg("read supervisord's processes: critical and targets not checked at start-up")
	} else if err := cfg.Check(procs); err != nil {
		return nil, sections.PrefixLines("listeners."+listenerName+".", err)
	}
	// The latch files exist from now on (written in place by a halt, so
	// that a full disk cannot keep it from being recorded), holding any
	// latch the store has.
	if err := latches(env, s).SyncFiles(ctx); err != nil {
		env.Log.Error().Err(err).Msg("halt latch files: a halt may not be recorded where the gate reads it")
	}
	g := NewGuard(env.Background(), engine, env.Supervisor, pages, env.Log)
	bootUntil := supervisordStart(ctx, env).Add(s.Grace())
	g.SetStartupGrace(bootUntil)
	g.AllowRemoteResume(s.RemoteResume)
	g.SetLatchSync(latches(env, s).SyncFiles)
	env.Log.Info().Strs("critical", cfg.Critical).Strs("targets", cfg.Targets).
		Time("startup_grace_until", bootUntil).Str("supervisor", env.Supervisor.URL()).
		Str("state", durable.Of(env).Store.Path()).Msg("haltguard starting")
	return &handler{guard: g, log: env.Log}, nil
}

// supervisordStart is when supervisord started, from /proc (supervisord
// runs on this host: haltguard is its child), or now when it cannot be
// told: the start-up grace then runs from haltguard's own start.
func supervisordStart(ctx context.Context, env *listener.Env) time.Time {
	now := time.Now()
	pid, err := env.Supervisor.GetPID(ctx)
	if err == nil {
		var fs procfs.FS
		if fs, err = procfs.NewDefaultFS(); err == nil {
			var p procfs.Proc
			if p, err = fs.Proc(pid); err == nil {
				var st procfs.ProcStat
				if st, err = p.Stat(); err == nil {
					var secs float64
					if secs, err = st.StartTime(); err == nil {
						if t := time.Unix(0, int64(secs*1e9)); t.Before(now) {
							return t
						}
					}
				}
			}
		}
	}
	env.Log.Info().Err(err).Msg("supervisord's start time unknown: the start-up grace runs from haltguard's start")
	return now
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
	e, err := halt.New(hc, halt.Deps{Supervisor: env.Supervisor, Latch: latches(env, s), Pager: p, Logger: env.Log,
		Redact: env.Config.Redact})
	return e, p, err
}

// latches is haltguard's latch: the latch files (what the gate reads,
// written in place first) and the store's.
func latches(env *listener.Env, s section) halt.Latches {
	warn := func(err error) { env.Log.Error().Err(err).Msg("halt latch") }
	return halt.Latches{
		Files: &halt.FileLatch{Paths: s.LatchPaths(durable.Of(env).Store.Path()), Warn: warn},
		Store: halt.NewStoreLatch(durable.Of(env).Store.Get),
		Warn:  warn,
	}
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
