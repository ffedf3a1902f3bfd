package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
)

// statusCmd is `healthprobe status [-json]`.
var statusCmd = listener.Command{Name: "status", Synopsis: "[-json]\tevery check on every process: state, evidence, counters, last action, restart budget",
	Run: func(ctx context.Context, args []string, sio listener.IO) int {
		var asJSON *bool
		env, rest, code := openOperator(ctx, "status", args, sio, func(fs *flag.FlagSet) {
			asJSON = fs.Bool("json", false, "print the snapshot as JSON")
		})
		if env == nil {
			return code
		}
		defer env.Close()
		if len(rest) > 0 {
			fmt.Fprintf(sio.Stderr, "healthprobe status: unexpected %q\n", rest[0])
			return listener.ExitUsage
		}
		path := statusFile(durable.Of(env).Store.Path())
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(sio.Stderr, "healthprobe status: %v (is healthprobe running under supervisord?)\n", err)
			return listener.ExitFailed
		}
		var s Snapshot
		if err := json.Unmarshal(b, &s); err != nil {
			fmt.Fprintf(sio.Stderr, "healthprobe status: %s: %v\n", path, err)
			return listener.ExitFailed
		}
		if *asJSON {
			_, _ = sio.Stdout.Write(append(b, '\n'))
			return listener.ExitOK
		}
		printStatus(sio.Stdout, s, time.Now())
		return listener.ExitOK
	}}

// budgetCmd is `healthprobe budget [reset PROCESS...]`.
var budgetCmd = listener.Command{Name: "budget", Synopsis: "[reset PROCESS...]\tlist the restarts each process spent in its window, or forget them",
	Run: func(ctx context.Context, args []string, sio listener.IO) int {
		env, rest, code := openOperator(ctx, "budget", args, sio, nil)
		if env == nil {
			return code
		}
		defer env.Close()
		if len(rest) > 0 && (rest[0] != "reset" || len(rest) < 2) {
			fmt.Fprintln(sio.Stderr, "healthprobe budget: want no argument, or reset PROCESS... (group:name)")
			return listener.ExitUsage
		}
		store, err := durable.Of(env).Store.Get(ctx)
		if err != nil {
			fmt.Fprintf(sio.Stderr, "healthprobe budget: %v\n", err)
			return listener.ExitFailed
		}
		if len(rest) > 0 {
			var errs []error
			for _, p := range rest[1:] {
				n, err := store.ResetRestarts(ctx, p)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(sio.Stdout, "%s: budget reset (%d restarts forgotten)\n", p, n)
			}
			if err := errors.Join(errs...); err != nil {
				fmt.Fprintf(sio.Stderr, "healthprobe budget: %v\n", err)
				return listener.ExitFailed
			}
			return listener.ExitOK
		}
		sec, err := readSection(env)
		if err != nil {
			fmt.Fprintf(sio.Stderr, "healthprobe budget: %v\n", err)
			return listener.ExitUsage
		}
		b := sec.Budget.Governor()
		counts, err := store.RestartCounts(ctx, time.Now().Add(-b.Window))
		if err != nil {
			fmt.Fprintf(sio.Stderr, "healthprobe budget: %v\n", err)
			return listener.ExitFailed
		}
		if len(counts) == 0 {
			fmt.Fprintf(sio.Stdout, "no restarts in the last %s (budget: %d per %s)\n", b.Window, b.Max, b.Window)
			return listener.ExitOK
		}
		tw := tabwriter.NewWriter(sio.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "PROCESS\tRESTARTS IN %s\tLEFT\n", b.Window)
		for _, rc := range counts {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", rc.Process, rc.Count, max(b.Max-rc.Count, 0))
		}
		_ = tw.Flush()
		return listener.ExitOK
	}}

// openOperator parses an operator command's flags (the common ones and
// those own registers) and opens the config and the state store, without
// supervisord or the sinks. It returns the arguments left, or a nil env
// and the exit code.
func openOperator(ctx context.Context, name string, args []string, sio listener.IO, own func(*flag.FlagSet)) (*listener.Env, []string, int) {
	var c listener.CommonFlags
	fs := flag.NewFlagSet("healthprobe "+name, flag.ContinueOnError)
	fs.SetOutput(sio.Stderr)
	c.Register(fs, false)
	if own != nil {
		own(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, listener.ExitUsage
	}
	c.LogLevel = cmp.Or(c.LogLevel, "warn")
	env, err := listener.Open(ctx, listener.Parts{Name: listenerName, File: parts.File, Store: durable.Opener{}}, c, listener.Operating, sio.Stderr)
	if err != nil {
		fmt.Fprintf(sio.Stderr, "healthprobe %s: %v\n", name, err)
		return nil, nil, listener.ExitUsage
	}
	return env, fs.Args(), listener.ExitOK
}
