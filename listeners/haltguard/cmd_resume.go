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
var resumeCmd = command("resume", "[--start] [--force] [--by NAME]\tclear the halt latch (and start the targets back)", false, func() op { return &resumeOp{} })

type resumeOp struct {
	opts halt.ResumeOptions
	by   string
}

func (o *resumeOp) Flags(fs *flag.FlagSet) {
	fs.BoolVar(&o.opts.Start, "start", false, "start the halt targets back")
	fs.BoolVar(&o.opts.Force, "force", false, "resume although a critical program is not RUNNING")
	fs.StringVar(&o.by, "by", "", "who is resuming (default the login name and host)")
}

func (*resumeOp) Check(fs *flag.FlagSet) error { return noArgs(fs) }

func (o *resumeOp) Run(ctx context.Context, cl *cli, sio listener.IO) int {
	o.opts.By = operator(o.by)
	return resume(ctx, cl, sio, o.opts)
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
