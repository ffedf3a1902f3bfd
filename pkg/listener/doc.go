// Package listener is the skeleton every superguard listener binary is
// built on. A listener supplies its name, the type of its section of the
// shared YAML config and a constructor for its event handler (a Spec);
// the skeleton does the rest the same way for every binary, in this order:
//
//  1. the command line: a first argument that is not a flag names a
//     subcommand (the listener's own Commands, then the alert pipeline's
//     incidents, outbox, retry and drop, and help and version); -h lists
//     them and exits 0; --version prints the version, the commit and the
//     Go version (stamped by `make build`); an unknown subcommand is
//     answered with the list;
//  2. the shared config (-config, else $SUPERGUARD_CONFIG, else
//     /etc/superguard/superguard.yaml if it exists) and the listener's
//     section listeners.<name>, decoded strictly, with the listener's
//     flags laid over it, then Prepare (defaults, validation);
//  3. a zerolog JSON logger on stderr, safe for concurrent goroutines
//     (stdout carries only the supervisord protocol);
//  4. the supervisord client (below);
//  5. the state store, opened lazily and reopened while it cannot be (a
//     full disk degrades a listener, never stops it), the alert pipeline
//     on it, and its senders in the background;
//  6. the handler (Spec.New), wrapped so that every TICK records the
//     listener's heartbeat in the store;
//  7. the protocol loop (package eventlistener) until stdin closes or
//     SIGTERM, then the work in hand (Drainer) within Needs.Grace, then
//     the background work ends (Stopper).
//
// -check validates the file and the sinks' secrets, the listener's
// section, and then, when supervisord can be reached, the section against
// its processes (Spec.Check).
//
// # Reaching supervisord
//
// One rule, SupervisorConfig: a listener takes the URL and credentials
// supervisord gives its children first ($SUPERVISOR_SERVER_URL, and
// $SUPERVISOR_USERNAME with $SUPERVISOR_PASSWORD or
// $SUPERVISOR_PASSWORD_FILE, passed through the listener's environment=),
// then the config file's supervisor section; an operator command run from
// a shell takes the file first. What the first source lacks comes from the
// other: the URL alone, or the credentials as a whole.
//
// # Exit codes
//
// 0 ok (or stdin closed), 1 a runtime failure, 2 a usage or configuration
// error (supervisord then marks the listener FATAL, which crashpager
// pages), 3 trading is halted (haltguard status, gate).
//
// # Writing a listener
//
// The smallest complete listener logs every process that exits, reads
// `listeners: exitlog: {quiet: true}` from the shared config, and is run
// by supervisord as `[eventlistener:exitlog]` with
// `events=PROCESS_STATE_EXITED,TICK_60`:
//
//	package main
//
//	type Config struct {
//		Quiet bool `yaml:"quiet"`
//	}
//
//	type exitLog struct {
//		env *listener.Env
//		cfg Config
//	}
//
//	func (h *exitLog) HandleEvent(_ context.Context, ev *eventlistener.Event) error {
//		if ev.State != nil && !h.cfg.Quiet {
//			h.env.Log.Info().Str("process", ev.State.Name()).Msg("exited")
//		}
//		return nil
//	}
//
//	var spec = listener.Spec[Config]{
//		Parts: listener.Parts{
//			Name:  "exitlog",
//			File:  configfile.File{},            // its section of the shared YAML file
//			Store: durable.Opener{Alerts: true}, // the state store and the alert pipeline
//		},
//		Summary: "logs exits",
//		New: func(_ context.Context, env *listener.Env, c Config) (eventlistener.Handler, error) {
//			return &exitLog{env: env, cfg: c}, nil
//		},
//	}
//
//	func main() { listener.Main(spec) }
//
// (Main runs it on the process's arguments and standard streams and exits
// with its code; tests call Run with their own.)
//
// File reads the listener's section from the shared YAML file (without
// it, flags alone configure the listener and the file is never read); Store
// opens the state store and, with Alerts, the alert pipeline for a
// listener that pages (durable.Of(env).Alerts.Submit commits an alert
// durably before the event is acknowledged; senders deliver it later).
// Needs asks for the rest: SupervisorRequired for one that
// acts on processes (Env.Supervisor), ReconcileOnStart and a Reconcile
// method for one that must not miss a state (events dropped by supervisord
// are reconciled from getAllProcessInfo). Flags override fields of the
// section; Check compares the section with supervisord's processes for
// -check; Commands add operator subcommands, one type each. Anything slow
// belongs in Env.Go, never between reading an event and acknowledging it.
// See Example for a runnable version; listeners/eventlog is the smallest
// real one.
package listener
