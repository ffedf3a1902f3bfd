package main

import (
	"context"
	"errors"
	"flag"
	"strings"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

func main() {
	listener.Main(spec)
}

// spec is eventlog on the listener skeleton: configured by flags alone (no
// File, so it links no YAML), no state store, supervisord optional (it reconciles on gaps when
// $SUPERVISOR_SERVER_URL is set).
var spec = listener.Spec[Config]{
	Parts:   listener.Parts{Name: "eventlog"},
	Summary: "superguard's event tap: one JSON line per supervisord event",
	Flags:   flags,
	Prepare: func(c *Config) error { return c.Validate() },
	// A bare word in -process was a program name only before the one
	// selector syntax.
	Selectors: func(c *Config) []listener.Selector {
		return []listener.Selector{{Field: "-process", Patterns: c.Processes}}
	},
	// A -process pattern that selects no process logs nothing of what
	// the operator meant.
	Check: func(c *Config, procs []supervisor.ProcessInfo) error {
		return errors.Join(procmatch.UnmatchedErrors("-process", c.Processes, procs)...)
	},
	New: func(_ context.Context, env *listener.Env, c Config) (eventlistener.Handler, error) {
		return newTap(env, c), nil
	},
}

// flags registers eventlog's filters.
func flags(fs *flag.FlagSet) func(*Config) {
	events := fs.String("events", "", "comma list of event names or prefixes to log (default all)")
	processes := fs.String("process", "", "comma list of process patterns: name (a program or a group), *:name (a program), group:*, group:name, shell globs (default all)")
	return func(c *Config) {
		c.Events = listener.SplitList(strings.ToUpper(*events))
		c.Processes = listener.SplitList(*processes)
	}
}
