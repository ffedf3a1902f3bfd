package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
)

// resumeCmd clears the halt latch: `haltguard resume [--start] [--force]`.
var resumeCmd = listener.Command{Name: "resume", Synopsis: "[--start] [--force] [--by NAME]\tclear the halt latch (and start the targets back)", Run: runResume}

func runResume(ctx context.Context, args []string, sio listener.IO) int {
	var opts halt.ResumeOptions
	var by string
	return operation{
		name: "resume",
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet) error {
			fs.BoolVar(&opts.Start, "start", false, "start the halt targets back")
			fs.BoolVar(&opts.Force, "force", false, "resume although a critical program is not RUNNING")
			fs.StringVar(&by, "by", "", "who is resuming (default the login name and host)")
			return func(fs *flag.FlagSet) error {
				if fs.NArg() > 0 {
					return fmt.Errorf("unexpected %q", fs.Arg(0))
				}
				return nil
			}
		},
		run: func(ctx context.Context, cl *cli, sio listener.IO) int {
			opts.By = operator(by)
			return resume(ctx, cl, sio, opts)
		},
	}.Run(ctx, args, sio)
}

// resume clears the latch (and starts the targets with opts.Start).
func resume(ctx context.Context, cl *cli, sio listener.IO, opts halt.ResumeOptions) int {
	res, err := cl.engine.Resume(ctx, opts)
	if err != nil {
		fmt.Fprintf(sio.Stderr, "haltguard resume: refused: %v\n", err)
		return listener.ExitFailed
	}
	defer cl.deliver(ctx)
	out := sio.Stdout
	if res.Latch.Latched {
		fmt.Fprintf(out, "resumed: halt latch cleared (was set %s by %s: %s)\n",
			res.Latch.Record.Since.Local().Format(time.RFC3339), res.Latch.Record.By, res.Latch.Record.Reason)
	} else {
		fmt.Fprintln(out, "trading was not halted")
	}
	if len(res.CriticalDown) > 0 {
		fmt.Fprintf(out, "forced while down: %s\n", strings.Join(res.CriticalDown, ", "))
	}
	if opts.Start {
		fmt.Fprintf(out, "started: %s\n", orNone(res.Started))
		for name, e := range res.StartErrors {
			fmt.Fprintf(out, "start failed: %s: %s\n", name, e)
		}
		if len(res.StartErrors) > 0 {
			return listener.ExitFailed
		}
	}
	return listener.ExitOK
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
