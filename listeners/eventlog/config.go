package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/logging"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Config is eventlog's configuration, from flags (and, for Supervisor, the
// environment).
type Config struct {
	// Events lists event names or prefixes to log; empty logs every event.
	Events []string
	// Processes lists process patterns; empty logs events of every process.
	Processes []string
	Dialect   eventlistener.Dialect
	// LogLevel is "debug", "info", "warn" or "error"; "" means
	// $SUPERGUARD_LOG_LEVEL, else info.
	LogLevel string
	// StateFile persists the last received event ("" = memory only).
	StateFile string
	// Supervisor is the XML-RPC client's config; reconciliation is on only
	// when its URL is set. It holds credentials: never log it.
	Supervisor supervisor.Config
}

// DefaultConfig returns the configuration used when no flag is given:
// every event of every process, real supervisord's dialect.
func DefaultConfig() Config {
	return Config{Dialect: eventlistener.Supervisor4}
}

// Validate checks every field; errors name the flag.
func (c Config) Validate() error {
	for _, e := range c.Events {
		if !validEventName(e) {
			return fmt.Errorf("-events: %q is not an event name or prefix (A-Z, 0-9, _)", e)
		}
	}
	for _, p := range c.Processes {
		if err := procmatch.Check(p); err != nil {
			return fmt.Errorf("-process: %w", err)
		}
	}
	if c.Dialect != eventlistener.Supervisor4 && c.Dialect != eventlistener.GoSupervisord {
		return fmt.Errorf("-dialect: %v: want supervisor4 or gosupervisord", c.Dialect)
	}
	if _, err := logging.New(io.Discard, "eventlog", c.LogLevel); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	if c.Supervisor.URL != "" {
		if err := c.Supervisor.Validate(); err != nil {
			return fmt.Errorf("%s: %w", supervisor.EnvServerURL, err)
		}
	}
	return nil
}

func validEventName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// parseFlags parses args (without the program name) over DefaultConfig.
// Errors, followed by the usage, are printed to errOut (as the flag package
// does) and returned.
func parseFlags(args []string, errOut io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("eventlog", flag.ContinueOnError)
	fs.SetOutput(errOut)
	events := fs.String("events", "", "comma list of event names or prefixes to log (default all)")
	processes := fs.String("process", "", "comma list of process patterns: name (a program or a group), *:name (a program), group:*, group:name, shell globs (default all)")
	fs.TextVar(&cfg.Dialect, "dialect", cfg.Dialect, "supervisor4 (len counts characters) or gosupervisord (len counts bytes)")
	fs.StringVar(&cfg.LogLevel, "log-level", "", "debug, info, warn or error (default $SUPERGUARD_LOG_LEVEL, else info)")
	fs.StringVar(&cfg.StateFile, "state-file", "", "file persisting the last received event (default none)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintln(errOut, err)
		fs.Usage()
		return cfg, err
	}
	cfg.Events = splitList(strings.ToUpper(*events))
	cfg.Processes = splitList(*processes)
	return cfg, nil
}

// splitList splits a comma list, trimming spaces and dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
