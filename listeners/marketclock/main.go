// Command marketclock runs the trading day by the exchange calendar:
// phases relative to the session (open - 15m, close - 10m, ...) that start
// and stop programs, run commands, tell strategies to go close-only or
// back to normal, and gate the open on pre-open checks; holidays, early
// closes and the operator's overlay honoured; each phase recorded in the
// state store so that it runs once across restarts; the session state
// published for the other guards' windows. See the README's marketclock
// section.
package main

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/superguard/superguard/internal/procexec"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/listener/operator"
	"github.com/superguard/superguard/pkg/supervisor"
)

const listenerName = "marketclock"

// section is marketclock's part of the shared YAML file.
type section = sections.Marketclock

func main() {
	listener.Main(spec)
}

// parts: supervisord (required: it starts and stops through it), the
// shared file, the state store (phase records, the published session,
// the latch) and the alert pipeline.
var parts = func() listener.Parts {
	p := operator.GuardParts(listenerName, sections.File)
	p.Needs.ReconcileOnStart = false // it follows the clock, not process events
	p.Needs.Grace = 10 * time.Second
	return p
}()

var spec = listener.Spec[section]{
	Parts:   parts,
	Summary: "superguard's market clock: the trading day by the exchange calendar, pre-open checks, close-only, session state",
	Prepare: sections.Prepare[section],
	// A pattern that matches nothing would start or stop nothing: a typo,
	// or a program renamed.
	Check: func(s *section, procs []supervisor.ProcessInfo) error {
		return checkPatterns(*s, procs)
	},
	New:      newListener,
	Commands: []listener.Command{planCmd, statusCmd},
}

// The engine sleeps until the next phase is due, for at most maxWait (a
// stepped wall clock is noticed within it, and the session is published
// every minute), and for pace while a phase waits for its checks or the
// store.
const (
	pace    = time.Second
	maxWait = 5 * time.Second
)

// newListener builds the engine and runs it in the background; events
// only record the heartbeat (the skeleton's wrapper).
func newListener(_ context.Context, env *listener.Env, sec section) (eventlistener.Handler, error) {
	p, err := newPlan(sec)
	if err != nil {
		return nil, err
	}
	d := durable.Of(env)
	e := &engine{
		log: env.Log, plan: p, sec: sec, sup: env.Supervisor, alerts: d.Alerts, now: time.Now, started: time.Now(),
		host: env.Config.Host, redact: env.Config.Redact,
		healthStatus: operator.StatusFile(d.Store.Path(), "healthprobe"),
		cmdEnv:       procexec.Env(os.Getenv, nil),
		store: func(ctx context.Context) (phaseStore, error) {
			st, err := d.Store.Get(ctx)
			if err != nil {
				return nil, err
			}
			return st, nil
		},
	}
	// The kill switch: nothing is started while trading is halted; a
	// latch that cannot be read counts as set.
	if e.latch, _, err = sections.KillSwitch(env.Config, d.Store.Path()); err != nil {
		return nil, err
	}
	h := &handler{stop: make(chan struct{})}
	env.Log.Info().Str("exchange", p.cal.X.Code).Int("phases", len(sec.Phases)).Bool("kill_switch", e.latch != nil).
		Str("session", e.sessionAt(time.Now())).Msg("marketclock ready")
	env.Go(func(ctx context.Context) {
		h.wg.Add(1)
		defer h.wg.Done()
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.stop:
				return
			case <-t.C:
			}
			next, err := e.step(ctx)
			if err != nil {
				env.Log.Error().Err(err).Msg("step")
			}
			wait := maxWait
			if !next.IsZero() {
				wait = min(max(time.Until(next), 0), maxWait)
			}
			t.Reset(wait)
		}
	})
	return h, nil
}

// handler acknowledges every event at once: the day runs in the
// background.
type handler struct {
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func (h *handler) HandleEvent(context.Context, *eventlistener.Event) error { return nil }

// Drain lets a phase in hand finish (within the skeleton's grace) and
// stops the loop.
func (h *handler) Drain() {
	h.once.Do(func() { close(h.stop) })
	h.wg.Wait()
}
