package listener

import (
	"context"
	"flag"
	"io"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/confdoctor"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Exit codes every superguard binary uses.
const (
	ExitOK     = 0 // done, or stdin closed
	ExitFailed = 1 // a runtime failure (the command ran but did not succeed)
	ExitUsage  = 2 // bad flags, an unknown command or a bad configuration
	ExitHalted = 3 // trading is halted (status), or a start refused because of it (gate)
)

// Spec describes a listener binary to the skeleton: its name, its section
// of the shared YAML config (type S, decoded strictly from
// listeners.<Name>), a constructor for its event handler, and what it
// needs. Everything else — flags, config, logger, supervisord client, state
// store, alert pipeline, heartbeats, background work with a shutdown
// grace, the protocol loop, -check, --version, -h and the operator
// subcommands — the skeleton does the same way for every listener.
type Spec[S any] struct {
	// Parts are its name and the shared parts it uses: File, Store,
	// Needs (operator commands open the same parts with Open).
	Parts
	// Summary is one line for -h.
	Summary string
	// Flags registers the listener's own flags on fs. The function it
	// returns lays the flags given on the command line over the decoded
	// section (use fs.Visit to know which were given). Nil: none.
	Flags func(fs *flag.FlagSet) func(*S)
	// Prepare fills in the section's defaults and validates it, after the
	// flags are applied; errors name the YAML path
	// ("listeners.crashpager.spree_window: ..."). Nil: nothing to do.
	Prepare func(*S) error
	// Check is the listener's part of -check against a reachable
	// supervisord's processes (e.g. patterns that match nothing). Nil:
	// the file alone is checked.
	Check func(sec *S, procs []supervisor.ProcessInfo) error
	// Explain writes, once Check passed, what the section means for each
	// of supervisord's processes (memguard: which limit applies). Nil:
	// nothing.
	Explain func(sec *S, procs []supervisor.ProcessInfo, w io.Writer)
	// Selectors lists the section's fields of process patterns whose
	// meaning widened with the one selector syntax, for -check's notes.
	// Nil: none.
	Selectors func(sec *S) []Selector
	// New builds the event handler once everything in Env exists. The
	// handler may also implement eventlistener.Reconciler, Drainer and
	// Stopper.
	New func(ctx context.Context, env *Env, sec S) (eventlistener.Handler, error)
	// Commands are the listener's own operator subcommands.
	Commands []Command
}

// ConfigFile is the shared YAML config file as the skeleton reads it
// (package configfile implements it). The skeleton reaches the file only
// through it, so that a listener without a file links none of its reading
// and validation.
type ConfigFile interface {
	// Load reads the file at path ("" for defaults only); resolve also
	// reads the secrets it names.
	Load(path string, resolve bool) (*config.Config, error)
	// Check reads the file for -check, writing its warnings to warn.
	Check(path string, warn io.Writer) error
	// Section decodes listeners.<name> of c strictly into sec.
	Section(c *config.Config, name string, sec any) error
	// Locate adds the file and line to err where it names a YAML path.
	Locate(c *config.Config, err error) error
	// Halt is listeners.haltguard of c as the conf doctor reads it
	// (nil: none).
	Halt(c *config.Config) *confdoctor.Halt
	// Others validates, for -check, the other listeners' sections (all
	// but skip) and rejects unknown ones.
	Others(c *config.Config, skip string) error
}

// Needs says which parts of the skeleton a listener uses.
type Needs struct {
	// Supervisor says whether a supervisord URL is required.
	Supervisor SupervisorNeed
	// SupervisorTimeout bounds each XML-RPC call without a deadline of its
	// own (default supervisor.DefaultTimeout).
	SupervisorTimeout time.Duration
	// ReconcileOnStart reads every process's state before the first event.
	ReconcileOnStart bool
	// Grace is how long background work (Env.Go) may go on once the
	// listener is told to stop.
	Grace time.Duration
	// EventsState returns the default delivery-tracking file of the
	// protocol loop ("" for memory only); the -events-state flag overrides
	// it. Nil: memory only.
	EventsState func(env *Env) string
}

// Selector is a field of process patterns (package procmatch) in which a
// bare word used to name a program only and now also selects every
// process of a group of that name: -check notes each such pattern, with
// what to write to keep the old meaning ("*:name").
type Selector struct {
	// Field is its path, e.g. "listeners.crashpager.include" or "-process".
	Field    string
	Patterns []string
	// Defaulted: the field holds its defaults, noted only when
	// supervisord's processes show a change.
	Defaulted bool
}

// SupervisorNeed says whether a listener needs supervisord's XML-RPC API.
type SupervisorNeed int

// Supervisor needs.
const (
	// SupervisorOptional: the client is built when a URL is known (events
	// carry less detail and gaps are not reconciled without it).
	SupervisorOptional SupervisorNeed = iota
	// SupervisorRequired: no URL is a configuration error.
	SupervisorRequired
)

// Drainer is implemented by a handler with work in hand when the protocol
// loop ends (a halt in progress): Drain waits for it, while the background
// context stays alive for at most Needs.Grace.
type Drainer interface{ Drain() }

// Stopper is implemented by a handler with goroutines of its own: Stop
// waits for them once the background context has ended.
type Stopper interface{ Stop() }

// StoreOpener opens a listener's durable parts once Env has its config,
// logger and client (package durable implements it).
type StoreOpener interface {
	// Open opens them for env; an error is a configuration error.
	Open(ctx context.Context, env *Env, flags CommonFlags, role Role) (Durable, error)
	// Check is -check's test of the config file at path for them (e.g.
	// that every sink builds), writing warnings to warn.
	Check(path string, warn io.Writer) error
	// Commands are the operator subcommands that come with them.
	Commands() []Command
}

// Durable is what a StoreOpener opened: Env.Durable.
type Durable interface {
	// Start starts the background work (alert senders) with env.Go.
	Start(env *Env)
	// Wrap wraps the listener's handler (e.g. to record a heartbeat on
	// every TICK), keeping its optional interfaces.
	Wrap(h eventlistener.Handler) eventlistener.Handler
	// Close closes them.
	Close() error
}

// SplitList splits a comma-separated flag value, trimming spaces and
// dropping empty items ("a, b,,c" is [a b c]).
func SplitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
