package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
)

// statusCmd prints the latch and the state of every critical program and
// target: `haltguard status`. Exit code 3 means halted.
var statusCmd = command("status", "\tlatched or not, since when, why, and every target's state (exit 3: halted)", true, func() op { return statusOp{} })

type statusOp struct{}

func (statusOp) Flags(*flag.FlagSet) {}

func (statusOp) Check(fs *flag.FlagSet) error { return noArgs(fs) }

func (statusOp) Run(ctx context.Context, cl *cli, sio listener.IO) int {
	st, err := cl.engine.Status(ctx)
	if err != nil {
		// Fails closed, as the gate does: what cannot be read is treated
		// as halted.
		fmt.Fprintf(sio.Stdout, "HALTED (unknown: %v): treated as halted until the latch can be read\n", err)
		return listener.ExitHalted
	}
	printStatus(sio.Stdout, st, time.Now())
	if st.Latch.Latched {
		return listener.ExitHalted
	}
	return listener.ExitOK
}

func printStatus(w io.Writer, st *halt.Status, now time.Time) {
	l := st.Latch
	if l.Latched {
		r := l.Record
		fmt.Fprintf(w, "HALTED since %s (%s ago) by %s\n", r.Since.Local().Format(time.RFC3339), now.Sub(r.Since).Round(time.Second), r.By)
		fmt.Fprintf(w, "  reason:  %s\n", r.Reason)
		if r.Trigger != "" {
			fmt.Fprintf(w, "  trigger: %s %s\n", r.Trigger, r.TriggerState)
		}
		fmt.Fprintf(w, "  trace:   %s\n", r.TraceID)
		if r.Completed.IsZero() {
			fmt.Fprintln(w, "  halt:    in progress (or interrupted: haltguard finishes it when it starts)")
		} else {
			fmt.Fprintf(w, "  halt:    carried out at %s\n", r.Completed.Local().Format(time.RFC3339))
		}
		fmt.Fprintln(w, "  resume:  haltguard resume --start")
	} else {
		fmt.Fprintln(w, "not halted")
		if !l.ResumedAt.IsZero() {
			fmt.Fprintf(w, "  last resumed %s by %s\n", l.ResumedAt.Local().Format(time.RFC3339), l.ResumedBy)
		}
	}
	if st.SupervisorErr != nil {
		fmt.Fprintf(w, "process states unknown: %v\n", st.SupervisorErr)
		return
	}
	tw := listener.Table(w, "\nROLE\tPROCESS\tSTATE\tDESCRIPTION")
	for _, p := range st.Critical {
		fmt.Fprintf(tw, "critical\t%s\t%s\t%s\n", p.FullName(), p.State, p.Description)
	}
	for _, p := range st.Targets {
		fmt.Fprintf(tw, "target\t%s\t%s\t%s\n", p.FullName(), p.State, p.Description)
	}
	_ = tw.Flush()
}
