// Package durable is the part of the listener skeleton that lives on the
// shared state store: the store itself, opened lazily and reopened while
// it cannot be (a full disk degrades a listener, never stops it), the
// alert pipeline on it with its senders, the listener's heartbeat on every
// TICK, and the pipeline's operator commands (incidents, outbox, retry,
// drop, test-alert). A listener that keeps state sets Spec.Store to an
// Opener; one that does not (eventlog) links none of this, SQLite included.
//
//	var spec = listener.Spec[Config]{
//		Parts: listener.Parts{..., Store: durable.Opener{Alerts: true}},
//		...
//	}
//
// and in its constructor, durable.Of(env) gives the Store and Alerts.
package durable

import (
	"context"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert/notify"
	"github.com/superguard/superguard/pkg/alert/opscli"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/configfile"
	"github.com/superguard/superguard/pkg/state"
)

// Opener opens a listener's Parts; it implements listener.StoreOpener.
type Opener struct {
	// Alerts builds the alert pipeline with the config's sinks, and runs
	// its senders in the background while the listener runs.
	Alerts bool
}

var _ listener.StoreOpener = Opener{}

// Parts are the store and the pipeline of one listener or command.
type Parts struct {
	// Store is the lazily opened state store.
	Store *Store
	// Alerts is the alert pipeline over Store (nil without Opener.Alerts).
	Alerts *Alerts

	name string
	log  zerolog.Logger
}

var _ listener.Durable = (*Parts)(nil)

// Of returns the Parts the skeleton opened for env, nil when the listener
// has no store.
func Of(env *listener.Env) *Parts {
	p, _ := env.Durable.(*Parts)
	return p
}

// Open implements listener.StoreOpener: the store at -state, else
// $SUPERGUARD_STATE, else the config's state_path, else the default path;
// the pipeline when asked. A store that cannot be opened is logged and
// tried again later, never an error.
func (o Opener) Open(ctx context.Context, env *listener.Env, flags listener.CommonFlags, _ listener.Role) (listener.Durable, error) {
	p := &Parts{name: env.Name, log: env.Log, Store: NewStore(state.Path(flags.State, env.Config.StatePath))}
	if o.Alerts {
		var err error
		if p.Alerts, err = buildAlerts(env.Config, p.Store, env.Name, env.Log); err != nil {
			return nil, fmt.Errorf("alert sinks: %w", err)
		}
	}
	if _, err := p.Store.Get(ctx); err != nil {
		env.Log.Error().Err(err).Str("state", p.Store.Path()).
			Msg("state store unavailable: alerts go to this log only")
	}
	return p, nil
}

// Check implements listener.StoreOpener: the config file with every sink
// built (so every secret must resolve; nothing is sent), deprecations
// written to warn.
func (o Opener) Check(path string, warn io.Writer) error {
	if !o.Alerts {
		_, err := configfile.Check(path, warn)
		return err
	}
	return notify.Check(path, warn)
}

// Commands implements listener.StoreOpener: the alert pipeline's operator
// commands.
func (Opener) Commands() []listener.Command { return opsCommands }

// Start implements listener.Durable: the alert senders run in the
// background until the listener stops.
func (p *Parts) Start(env *listener.Env) {
	if p.Alerts != nil {
		env.Go(p.Alerts.Run)
	}
}

// Wrap implements listener.Durable: every TICK records the listener's
// heartbeat once the handler has handled it.
func (p *Parts) Wrap(h eventlistener.Handler) eventlistener.Handler {
	return withHeartbeat(h, p.Store, p.name, p.log)
}

// Close implements listener.Durable.
func (p *Parts) Close() error { return p.Store.Close() }

// opsCommands are the alert pipeline's operator commands (package
// opscli, and test-alert), mounted on every listener with a store.
var opsCommands = []listener.Command{
	opsCommand("incidents", "[-all] [-since D]\topen incidents (-all: and recently resolved)"),
	opsCommand("outbox", "[--pending|--dead] [-sink NAME]\tqueued and dead-lettered deliveries"),
	opsCommand("retry", "ID | --all-dead\tre-queue dead-lettered deliveries"),
	opsCommand("drop", "ID\tcancel a queued or dead delivery for good"),
	testAlertCommand,
}

func opsCommand(name, synopsis string) listener.Command {
	return listener.Command{Name: name, Synopsis: synopsis, Run: func(ctx context.Context, args []string, io listener.IO) int {
		return opscli.Run(ctx, append([]string{name}, args...), io.Stdout, io.Stderr)
	}}
}
