package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
)

// Snapshot is what `healthprobe status` shows: the running listener
// writes it after every round and every action.
type Snapshot struct {
	Written         time.Time      `json:"written"`
	PID             int            `json:"pid"`
	Rounds          int64          `json:"rounds"`
	SupervisorError string         `json:"supervisor_error,omitempty"`
	Halted          bool           `json:"halted"`
	LatchError      string         `json:"latch_error,omitempty"`
	Targets         []TargetStatus `json:"targets"`
}

// TargetStatus is one check on one process.
type TargetStatus struct {
	Check      string    `json:"check"`
	Kind       string    `json:"kind"`
	Process    string    `json:"process"`
	PID        int       `json:"pid,omitempty"`
	State      State     `json:"state"`
	Failures   int       `json:"failures"`  // in the last Within probes
	Threshold  int       `json:"threshold"` // failures that act
	Within     int       `json:"within"`
	Passes     int       `json:"passes"` // consecutive
	Successes  int       `json:"successes"`
	Alerting   bool      `json:"alerting"`
	LastProbe  time.Time `json:"last_probe,omitzero"`
	LastOK     bool      `json:"last_ok"`
	Evidence   string    `json:"evidence,omitempty"`
	Latency    string    `json:"latency,omitempty"`
	LastAction string    `json:"last_action,omitempty"`
	ActionAt   time.Time `json:"action_at,omitzero"`
	Restarts   string    `json:"restarts,omitempty"` // "1 of 3 used"
	Started    time.Time `json:"started,omitzero"`
}

// statusFile is the snapshot's path: next to the state store.
func statusFile(statePath string) string {
	return filepath.Join(filepath.Dir(statePath), listenerName+".status.json")
}

// snapshot builds the status. Called with e.mu held.
func (e *engine) snapshot() Snapshot {
	s := Snapshot{Written: e.now(), PID: os.Getpid(), Rounds: e.rounds, Halted: e.latched}
	if e.supErr != nil {
		s.SupervisorError = e.redact(e.supErr.Error())
	}
	if e.latchErr != nil {
		s.LatchError, s.Halted = e.redact(e.latchErr.Error()), true
	}
	for _, t := range e.sortedTargets() {
		cfg := t.check.cfg
		ts := TargetStatus{Check: cfg.Name, Kind: t.check.kind(), Process: t.proc.FullName(), PID: t.proc.PID,
			State: t.state, Failures: t.failures(), Threshold: cfg.Failures, Within: cfg.Within, Passes: t.passes,
			Successes: cfg.Successes, Alerting: t.open, LastProbe: t.last.At, LastOK: t.last.OK,
			Evidence: e.redact(t.last.Evidence), LastAction: e.redact(t.lastAction), ActionAt: t.actionAt, Started: t.start}
		if t.last.Latency > 0 {
			ts.Latency = t.last.Latency.Round(time.Millisecond).String()
		}
		if t.budget.Max > 0 {
			ts.Restarts = fmt.Sprintf("%d of %d used", t.budget.Used, t.budget.Max)
		}
		s.Targets = append(s.Targets, ts)
	}
	return s
}

// writeStatus replaces the snapshot file (a failure is logged: status is
// for people, never on a safety path).
func (e *engine) writeStatus() {
	if e.status == "" {
		return
	}
	e.mu.Lock()
	s := e.snapshot()
	e.mu.Unlock()
	b, err := json.MarshalIndent(s, "", "  ")
	if err == nil {
		tmp := e.status + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, e.status)
		}
	}
	if err != nil {
		e.log.Warn().Err(err).Str("file", e.status).Msg("status not written")
	}
}

// statusCmd is `healthprobe status [-json]`.
var statusCmd = listener.Command{Name: "status", Synopsis: "[-json]\tevery check on every process: state, evidence, counters, last action, restart budget",
	Run: func(ctx context.Context, args []string, sio listener.IO) int {
		var c listener.CommonFlags
		fs := flag.NewFlagSet("healthprobe status", flag.ContinueOnError)
		fs.SetOutput(sio.Stderr)
		c.Register(fs, false)
		asJSON := fs.Bool("json", false, "print the snapshot as JSON")
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
			return listener.ExitUsage
		}
		if c.LogLevel == "" {
			c.LogLevel = "warn"
		}
		env, err := listener.Open(ctx, listener.Parts{Name: listenerName, File: parts.File, Store: durable.Opener{}}, c, listener.Operating, sio.Stderr)
		if err != nil {
			fmt.Fprintf(sio.Stderr, "healthprobe status: %v\n", err)
			return listener.ExitUsage
		}
		defer env.Close()
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

// printStatus writes the snapshot for people.
func printStatus(w io.Writer, s Snapshot, now time.Time) {
	age := now.Sub(s.Written).Round(time.Second)
	fmt.Fprintf(w, "healthprobe (pid %d): %d rounds, last %s ago\n", s.PID, s.Rounds, age)
	if age > time.Minute {
		fmt.Fprintf(w, "WARNING: the snapshot is %s old: healthprobe may be stopped or stuck\n", age)
	}
	if s.SupervisorError != "" {
		fmt.Fprintf(w, "supervisord not readable: %s\n", s.SupervisorError)
	}
	switch {
	case s.LatchError != "":
		fmt.Fprintf(w, "trading: HALTED (latch unreadable: %s): nothing is restarted\n", s.LatchError)
	case s.Halted:
		fmt.Fprintln(w, "trading: HALTED: halted targets are not probed, nothing is restarted")
	}
	if len(s.Targets) == 0 {
		fmt.Fprintln(w, "no process matches any check")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tPROCESS\tSTATE\tFAILED\tLAST EVIDENCE\tLAST ACTION\tRESTARTS")
	for _, t := range s.Targets {
		state := string(t.State)
		if t.State == StateFailing || t.State == StateUnhealthy {
			state = fmt.Sprintf("%s %d/%d", t.State, t.Failures, t.Threshold)
		}
		action := t.LastAction
		if action == "" {
			action = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d of %d\t%s\t%s\t%s\n", t.Check, t.Process, state, t.Failures, t.Within,
			orDash(clipText(t.Evidence, 70)), clipText(action, 90), orDash(t.Restarts))
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clipText(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// budgetCmd is `healthprobe budget [reset PROCESS...]`.
var budgetCmd = listener.Command{Name: "budget", Synopsis: "[reset PROCESS...]\tlist the restarts each process spent in its window, or forget them",
	Run: func(ctx context.Context, args []string, sio listener.IO) int {
		var c listener.CommonFlags
		fs := flag.NewFlagSet("healthprobe budget", flag.ContinueOnError)
		fs.SetOutput(sio.Stderr)
		c.Register(fs, false)
		if err := fs.Parse(args); err != nil {
			return listener.ExitUsage
		}
		rest := fs.Args()
		if len(rest) > 0 && (rest[0] != "reset" || len(rest) < 2) {
			fmt.Fprintln(sio.Stderr, "healthprobe budget: want no argument, or reset PROCESS... (group:name)")
			return listener.ExitUsage
		}
		if c.LogLevel == "" {
			c.LogLevel = "warn"
		}
		env, err := listener.Open(ctx, listener.Parts{Name: listenerName, File: parts.File, Store: durable.Opener{}}, c, listener.Operating, sio.Stderr)
		if err != nil {
			fmt.Fprintf(sio.Stderr, "healthprobe budget: %v\n", err)
			return listener.ExitUsage
		}
		defer env.Close()
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
