// Package opscli holds the operator commands every superguard listener
// binary mounts as subcommands, for use from a plain SSH session:
//
//	crashpager incidents [-all] [-since 24h]     open incidents (-all: and recently resolved)
//	crashpager outbox [--pending|--dead] [-sink NAME] [-limit N]
//	crashpager retry ID | --all-dead             re-queue dead-lettered deliveries
//	crashpager drop ID                           cancel a queued or dead delivery for good
//
// Every command takes -config (else $SUPERGUARD_CONFIG, else
// /etc/superguard/superguard.yaml if present), -state to override the
// store's path (else $SUPERGUARD_STATE, else the config's state_path), and
// -json for machine-readable output; the default is aligned text. The
// config's secrets are not read, so the commands work without the
// listeners' environment. A listener's main dispatches to Run when its first
// argument is one of Commands, passing the process's standard output and
// error (these are CLI commands, not the supervisord protocol):
//
//	if len(args) > 0 && opscli.IsCommand(args[0]) {
//		return opscli.Run(ctx, args, stdout, stderr)
//	}
package opscli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/state"
)

// Commands are the subcommands Run understands.
var Commands = []string{"incidents", "outbox", "retry", "drop"}

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the command failed
	ExitUsage = 2 // bad arguments
)

// IsCommand reports whether name is one of Commands.
func IsCommand(name string) bool { return slices.Contains(Commands, name) }

// common are the flags every command takes.
type common struct {
	config string
	state  string
	json   bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "config file (default $"+config.EnvPath+", else "+config.DefaultPath+" if present)")
	fs.StringVar(&c.state, "state", "", "state database (default $"+state.EnvPath+", else the config's state_path, else "+state.DefaultPath+")")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of aligned text")
}

// Run runs the operator command in args (args[0] is the command name) and
// returns the process exit code. Results go to stdout, errors and usage to
// stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || !IsCommand(args[0]) {
		fmt.Fprintf(stderr, "usage: <listener> {%s} [flags]; <command> -h for help\n", strings.Join(Commands, "|"))
		return ExitUsage
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	var run func(ctx context.Context, s *state.Store, out io.Writer) error
	var positional []string
	switch cmd {
	case "incidents":
		all := fs.Bool("all", false, "include incidents resolved within -since")
		since := fs.Duration("since", 24*time.Hour, "with -all, how far back resolved incidents go")
		run = func(ctx context.Context, s *state.Store, out io.Writer) error {
			return incidents(ctx, s, out, c.json, *all, *since)
		}
	case "outbox":
		pending := fs.Bool("pending", false, "only deliveries still queued (pending or sending)")
		dead := fs.Bool("dead", false, "only dead-lettered deliveries")
		all := fs.Bool("all", false, "every delivery, sent and cancelled included (default: queued and dead)")
		sink := fs.String("sink", "", "only this sink")
		limit := fs.Int("limit", 0, "at most this many rows (0: all)")
		run = func(ctx context.Context, s *state.Store, out io.Writer) error {
			f := state.Filter{Sink: *sink, Limit: *limit, Statuses: []state.Status{state.Pending, state.Sending, state.Dead}}
			switch {
			case boolCount(*pending, *dead, *all) > 1:
				return usageError("use at most one of --pending, --dead and --all")
			case *pending:
				f.Statuses = []state.Status{state.Pending, state.Sending}
			case *dead:
				f.Statuses = []state.Status{state.Dead}
			case *all:
				f.Statuses = nil
			}
			return outbox(ctx, s, out, c.json, f)
		}
	case "retry":
		allDead := fs.Bool("all-dead", false, "retry every dead-lettered delivery")
		run = func(ctx context.Context, s *state.Store, out io.Writer) error {
			return retry(ctx, s, out, c.json, positional, *allDead)
		}
	case "drop":
		run = func(ctx context.Context, s *state.Store, out io.Writer) error {
			return drop(ctx, s, out, c.json, positional)
		}
	}
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if len(positional) > 0 && cmd != "retry" && cmd != "drop" {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", cmd, positional[0])
		return ExitUsage
	}
	s, err := openStore(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return ExitError
	}
	defer s.Close()
	if err := run(ctx, s, stdout); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		var ue usageError
		if errors.As(err, &ue) {
			return ExitUsage
		}
		return ExitError
	}
	return ExitOK
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// usageError is a mistake in the command line.
type usageError string

func (e usageError) Error() string { return string(e) }

func boolCount(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// openStore finds the store through the config and opens it. It never
// creates one: a missing file means the path is wrong.
func openStore(ctx context.Context, c common) (*state.Store, error) {
	cfg, err := config.LoadUnresolved(config.Path(c.config))
	if err != nil {
		return nil, err
	}
	path := state.Path(c.state, cfg.StatePath)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("state database: %w (set -state, $%s or state_path)", err, state.EnvPath)
	}
	return state.Open(ctx, path)
}

// parseIDs reads delivery ids from the command line.
func parseIDs(args []string) ([]int64, error) {
	ids := make([]int64, 0, len(args))
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, usageError(fmt.Sprintf("%q is not a delivery id", a))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// table writes aligned columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stamp formats a time for text output ("-" when unset).
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// clip shortens s to n runes for a table cell.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
