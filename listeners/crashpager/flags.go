package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/eventlistener"
)

// options is crashpager's command line. Flags that repeat a field of the
// YAML section override it when given.
type options struct {
	configPath  string // -config, else $SUPERGUARD_CONFIG
	statePath   string // -state, else $SUPERGUARD_STATE, else the config's state_path
	eventsState string // -events-state: the protocol loop's delivery-tracking file
	logLevel    string
	dialect     eventlistener.Dialect
	check       bool

	stableFor      time.Duration
	spreeWindow    time.Duration
	spreeThreshold int
	include        string
	exclude        string
	set            map[string]bool // flags given on the command line
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet(listenerName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: crashpager [flags]\n       crashpager incidents|outbox|retry|drop ...\n\nflags:\n")
		fs.PrintDefaults()
	}
	var dialect string
	fs.StringVar(&o.configPath, "config", "", "shared YAML config file (default $"+config.EnvPath+", else "+config.DefaultPath+" if it exists)")
	fs.StringVar(&o.statePath, "state", "", "state database (default $SUPERGUARD_STATE, else the config's state_path)")
	fs.StringVar(&o.eventsState, "events-state", "", "delivery-tracking file of the protocol loop, to recognise re-sent events and gaps across restarts (default: memory only; costs an fsync per event)")
	fs.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error (default $SUPERGUARD_LOG_LEVEL, else info)")
	fs.StringVar(&dialect, "dialect", "supervisor4", "supervisor4 (real supervisord) or gosupervisord")
	fs.BoolVar(&o.check, "check", false, "validate the config and exit (non-zero naming the bad field)")
	fs.DurationVar(&o.stableFor, "stable-for", 0, "override listeners.crashpager.stable_for")
	fs.DurationVar(&o.spreeWindow, "spree-window", 0, "override listeners.crashpager.spree_window")
	fs.IntVar(&o.spreeThreshold, "spree-threshold", 0, "override listeners.crashpager.spree_threshold")
	fs.StringVar(&o.include, "include", "", "override listeners.crashpager.include (comma-separated patterns)")
	fs.StringVar(&o.exclude, "exclude", "", "override listeners.crashpager.exclude (comma-separated patterns)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch dialect {
	case "supervisor4":
		o.dialect = eventlistener.Supervisor4
	case "gosupervisord":
		o.dialect = eventlistener.GoSupervisord
	default:
		return o, fmt.Errorf("-dialect %q: want supervisor4 or gosupervisord", dialect)
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	return o, nil
}

// apply lays the flags given on the command line over c.
func (o options) apply(c Config) Config {
	if o.set["stable-for"] {
		c.StableFor = o.stableFor
	}
	if o.set["spree-window"] {
		c.SpreeWindow = o.spreeWindow
	}
	if o.set["spree-threshold"] {
		c.SpreeThreshold = o.spreeThreshold
	}
	if o.set["include"] {
		c.Include = splitList(o.include)
	}
	if o.set["exclude"] {
		c.Exclude = splitList(o.exclude)
	}
	return c
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadConfig reads the shared config and crashpager's section of it, with
// flags applied, defaults filled in, validated, and the dead-man URL
// resolved.
func loadConfig(o options, getenv func(string) string) (*config.Config, Config, error) {
	shared, err := config.Load(config.Path(o.configPath))
	if err != nil {
		return nil, Config{}, err
	}
	var c Config
	if err := shared.Listener(listenerName, &c); err != nil {
		return nil, Config{}, err
	}
	c = o.apply(c).withDefaults()
	if err := c.Validate(); err != nil {
		return nil, Config{}, err
	}
	if err := c.DeadMan.resolve(getenv); err != nil {
		return nil, Config{}, fmt.Errorf("listeners.crashpager.deadman.%w", err)
	}
	return shared, c, nil
}

// check is -check: the shared config with its sinks, then crashpager's
// section. It writes to notes which patterns now select more than they
// did (selectorNotes).
func check(o options, getenv func(string) string, notes io.Writer) error {
	if err := config.Check(config.Path(o.configPath)); err != nil {
		return err
	}
	shared, c, err := loadConfig(o, getenv)
	if err != nil {
		return err
	}
	procs, known := liveProcesses(context.Background(), shared)
	for _, n := range selectorNotes(c, procs, known) {
		fmt.Fprintln(notes, "crashpager: note:", n)
	}
	return nil
}

// eventsStatePath is the protocol loop's delivery-tracking file, "" (the
// default) for memory only. crashpager does not need it for correctness:
// every alert's SourceID makes a re-sent event a no-op in the pipeline, and
// it reconciles from getAllProcessInfo at start-up, which covers events
// dropped while it was down. The file costs an fsync before every event
// (p99 event-to-ack 12 ms instead of 2 ms here), so it is opt-in; with it,
// a re-sent event is also logged as such after a restart.
func eventsStatePath(flagValue string) string {
	if flagValue == "none" {
		return ""
	}
	return flagValue
}
