package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
)

// haltCmd is the manual kill switch: `haltguard halt --reason TEXT`.
var haltCmd = command("halt", "--reason TEXT [--by NAME] [--timeout D]\thalt trading now", false, func() op { return &haltOp{} })

type haltOp struct {
	reason, by string
	timeout    time.Duration
}

func (o *haltOp) Flags(fs *flag.FlagSet) {
	fs.StringVar(&o.reason, "reason", "", "why (required): recorded in the latch and the page")
	fs.StringVar(&o.by, "by", "", "who is halting (default the login name and host)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up retrying an unreachable supervisord after this long")
}

func (o *haltOp) Check(fs *flag.FlagSet) error {
	if strings.TrimSpace(o.reason) == "" || fs.NArg() > 0 {
		return errors.New("--reason TEXT is required (and nothing else)")
	}
	return nil
}

func (o *haltOp) Run(ctx context.Context, cl *cli, sio listener.IO) int {
	req := halt.Request{Reason: o.reason, By: operator(o.by), Trigger: halt.Trigger{Source: "cli"}}
	return haltOrEnforce(ctx, cl, sio, req, o.timeout)
}

// haltOrEnforce halts, or, when trading is already halted, makes sure every
// target is stopped.
func haltOrEnforce(ctx context.Context, cl *cli, sio listener.IO, req halt.Request, timeout time.Duration) int {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var res *halt.Result
	st, err := cl.engine.Latched(ctx)
	if err == nil && st.Latched {
		fmt.Fprintf(sio.Stdout, "already halted since %s by %s: %s\nmaking sure every target is stopped\n",
			st.Record.Since.Local().Format(time.RFC3339), st.Record.By, st.Record.Reason)
		res = cl.engine.Enforce(ctx, st.Record, nil, "cli")
	} else {
		if err != nil {
			fmt.Fprintf(sio.Stderr, "haltguard halt: cannot read the latch (%v): halting anyway\n", err)
		}
		res = cl.engine.Halt(ctx, req)
	}
	waitLatch(ctx, cl.engine)
	printResult(sio.Stdout, res)
	code := listener.ExitOK
	if !res.Done() {
		code = listener.ExitFailed
	} else if err := targetsExist(ctx, cl.engine); err != nil {
		fmt.Fprintf(sio.Stderr, "haltguard halt: %v\n", err)
		code = listener.ExitFailed
	}
	cl.deliver(ctx)
	return code
}

// targetsExist fails when the targets match no process at all: a halt
// that can stop nothing is a mis-targeted kill switch, not a success (the
// latch is set all the same).
func targetsExist(ctx context.Context, e *halt.Engine) error {
	procs, err := e.ListProcesses(ctx)
	if err != nil {
		return fmt.Errorf("cannot tell whether the targets exist: %w", err)
	}
	cfg := e.Config()
	if !slices.ContainsFunc(procs, cfg.IsTarget) {
		return fmt.Errorf("targets %s match no process in supervisord: nothing could be stopped; fix listeners.haltguard.targets (haltguard -check shows what matches)", strings.Join(cfg.Targets, ", "))
	}
	return nil
}

// waitLatch waits, bounded by ctx, for a latch write being retried.
func waitLatch(ctx context.Context, e *halt.Engine) {
	done := make(chan struct{})
	go func() {
		e.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func printResult(w io.Writer, res *halt.Result) {
	r := res.Record
	status := "HALTED"
	if !res.Done() {
		status = "HALT INCOMPLETE"
	}
	fmt.Fprintf(w, "%s (trace %s): %d target(s) stopped in %s\n", status, r.TraceID, len(res.Stopped), res.Duration.Round(time.Millisecond))
	line := func(label string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(w, "  %-14s %s\n", label+":", strings.Join(names, ", "))
		}
	}
	line("stopped", res.Stopped)
	line("already down", res.AlreadyDown)
	line("SIGKILLed", res.Killed)
	line("STILL RUNNING", res.Survivors)
	for name, e := range res.StopErrors {
		fmt.Fprintf(w, "  %-14s %s: %s\n", "error:", name, e)
	}
	if res.LatchErr != nil {
		fmt.Fprintf(w, "  %-14s NOT RECORDED: %v\n", "latch:", res.LatchErr)
	}
	if f := res.Flatten; f != nil {
		if f.OK() {
			fmt.Fprintf(w, "  %-14s ok in %s\n", "flatten:", f.Duration.Round(time.Millisecond))
		} else {
			fmt.Fprintf(w, "  %-14s FAILED: %s\n", "flatten:", f.Err)
		}
	}
	if res.SupervisorDown {
		fmt.Fprintln(w, "  supervisord is shutting down: it stops every process itself; the latch holds when it starts again")
	}
	fmt.Fprintln(w, "resume with: haltguard resume --start")
}
