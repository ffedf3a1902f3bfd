// Package operator holds the operator subcommands that guards with a
// status snapshot and a restart budget share (healthprobe, memguard):
// `status [-json]`, which reads the snapshot the running listener writes
// next to the state store, and `budget [reset PROCESS...]`, over the
// restart records every listener shares through the state store.
package operator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
)

// Open parses an operator command's flags (the common ones and those own
// registers) and opens the config and the state store, without
// supervisord or the sinks. It returns the arguments left, or a nil env
// and the exit code.
func Open(ctx context.Context, parts listener.Parts, name string, args []string, sio listener.IO, own func(*flag.FlagSet)) (*listener.Env, []string, int) {
	var c listener.CommonFlags
	fs := flag.NewFlagSet(parts.Name+" "+name, flag.ContinueOnError)
	fs.SetOutput(sio.Stderr)
	c.Register(fs, false)
	if own != nil {
		own(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, listener.ExitUsage
	}
	c.LogLevel = cmp.Or(c.LogLevel, "warn")
	env, err := listener.Open(ctx, listener.Parts{Name: parts.Name, File: parts.File, Store: durable.Opener{}}, c, listener.Operating, sio.Stderr)
	if err != nil {
		fmt.Fprintf(sio.Stderr, "%s %s: %v\n", parts.Name, name, err)
		return nil, nil, listener.ExitUsage
	}
	return env, fs.Args(), listener.ExitOK
}

// StatusFile is a listener's status snapshot: next to the state store.
func StatusFile(statePath, name string) string {
	return filepath.Join(filepath.Dir(statePath), name+".status.json")
}

// WriteStatus replaces the snapshot file at path with v as JSON, readable
// by its owner only (it names processes and evidence).
func WriteStatus(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// StatusCommand is `NAME status [-json]`: the snapshot the running
// listener wrote, printed by print for people or as it is with -json.
func StatusCommand[T any](parts listener.Parts, synopsis string, print func(w io.Writer, s T, now time.Time)) listener.Command {
	return listener.Command{Name: "status", Synopsis: "[-json]\t" + synopsis,
		Run: func(ctx context.Context, args []string, sio listener.IO) int {
			var asJSON *bool
			env, rest, code := Open(ctx, parts, "status", args, sio, func(fs *flag.FlagSet) {
				asJSON = fs.Bool("json", false, "print the snapshot as JSON")
			})
			if env == nil {
				return code
			}
			defer env.Close()
			if len(rest) > 0 {
				fmt.Fprintf(sio.Stderr, "%s status: unexpected %q\n", parts.Name, rest[0])
				return listener.ExitUsage
			}
			path := StatusFile(durable.Of(env).Store.Path(), parts.Name)
			b, err := os.ReadFile(path)
			if err != nil {
				fmt.Fprintf(sio.Stderr, "%s status: %v (is %s running under supervisord?)\n", parts.Name, err, parts.Name)
				return listener.ExitFailed
			}
			var s T
			if err := json.Unmarshal(b, &s); err != nil {
				fmt.Fprintf(sio.Stderr, "%s status: %s: %v\n", parts.Name, path, err)
				return listener.ExitFailed
			}
			if *asJSON {
				_, _ = sio.Stdout.Write(append(b, '\n'))
				return listener.ExitOK
			}
			print(sio.Stdout, s, time.Now())
			return listener.ExitOK
		}}
}

// BudgetCommand is `NAME budget [reset PROCESS...]`: the restarts each
// process spent in the window of the listener's budget (read from its
// section by budget), or forgetting them.
func BudgetCommand(parts listener.Parts, budget func(env *listener.Env) (governor.Budget, error)) listener.Command {
	return listener.Command{Name: "budget", Synopsis: "[reset PROCESS...]\tlist the restarts each process spent in its window, or forget them",
		Run: func(ctx context.Context, args []string, sio listener.IO) int {
			env, rest, code := Open(ctx, parts, "budget", args, sio, nil)
			if env == nil {
				return code
			}
			defer env.Close()
			if len(rest) > 0 && (rest[0] != "reset" || len(rest) < 2) {
				fmt.Fprintf(sio.Stderr, "%s budget: want no argument, or reset PROCESS... (group:name)\n", parts.Name)
				return listener.ExitUsage
			}
			store, err := durable.Of(env).Store.Get(ctx)
			if err != nil {
				fmt.Fprintf(sio.Stderr, "%s budget: %v\n", parts.Name, err)
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
					fmt.Fprintf(sio.Stderr, "%s budget: %v\n", parts.Name, err)
					return listener.ExitFailed
				}
				return listener.ExitOK
			}
			b, err := budget(env)
			if err != nil {
				fmt.Fprintf(sio.Stderr, "%s budget: %v\n", parts.Name, err)
				return listener.ExitUsage
			}
			counts, err := store.RestartCounts(ctx, time.Now().Add(-b.Window))
			if err != nil {
				fmt.Fprintf(sio.Stderr, "%s budget: %v\n", parts.Name, err)
				return listener.ExitFailed
			}
			if len(counts) == 0 {
				fmt.Fprintf(sio.Stdout, "no restarts in the last %s (budget: %d per %s)\n", b.Window, b.Max, b.Window)
				return listener.ExitOK
			}
			tw := listener.Table(sio.Stdout, "PROCESS\tRESTARTS IN "+b.Window.String()+"\tLEFT")
			for _, rc := range counts {
				fmt.Fprintf(tw, "%s\t%d\t%d\n", rc.Process, rc.Count, max(b.Max-rc.Count, 0))
			}
			_ = tw.Flush()
			return listener.ExitOK
		}}
}

// Header starts every status snapshot: who wrote it, when, after how many
// rounds, and what the listener could not read.
type Header struct {
	Written         time.Time `json:"written"`
	PID             int       `json:"pid"`
	Rounds          int64     `json:"rounds"`
	SupervisorError string    `json:"supervisor_error,omitempty"`
	Halted          bool      `json:"halted"`
	LatchError      string    `json:"latch_error,omitempty"`
}

// NewHeader is a snapshot's header; an unreadable latch counts as halted.
// Errors are passed through redact.
func NewHeader(now time.Time, rounds int64, supErr error, latched bool, latchErr error, redact func(string) string) Header {
	h := Header{Written: now, PID: os.Getpid(), Rounds: rounds, Halted: latched}
	if supErr != nil {
		h.SupervisorError = redact(supErr.Error())
	}
	if latchErr != nil {
		h.LatchError, h.Halted = redact(latchErr.Error()), true
	}
	return h
}

// Print writes the header for people: name, age (a warning when it is
// stale: the listener may be stopped or stuck), supervisord's and the
// latch's state; whileHalted says what the listener does then.
func (h Header) Print(w io.Writer, name string, now time.Time, whileHalted string) {
	age := now.Sub(h.Written).Round(time.Second)
	fmt.Fprintf(w, "%s (pid %d): %d rounds, last %s ago\n", name, h.PID, h.Rounds, age)
	if age > time.Minute {
		fmt.Fprintf(w, "WARNING: the snapshot is %s old: %s may be stopped or stuck\n", age, name)
	}
	if h.SupervisorError != "" {
		fmt.Fprintf(w, "supervisord not readable: %s\n", h.SupervisorError)
	}
	switch {
	case h.LatchError != "":
		fmt.Fprintf(w, "trading: HALTED (latch unreadable: %s): nothing is restarted\n", h.LatchError)
	case h.Halted:
		fmt.Fprintln(w, "trading: HALTED: "+whileHalted)
	}
}

// OrDash is s, or "-" when it is empty (a table cell).
func OrDash(s string) string { return cmp.Or(s, "-") }

// Clip shortens s to n runes on one line (a table cell).
func Clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Publish takes a snapshot under mu and writes it to path ("": nowhere)
// with WriteStatus; a failure is logged, never returned: status is for
// people, never on a safety path.
func Publish[T any](log zerolog.Logger, path string, mu sync.Locker, snapshot func() T) {
	if path == "" {
		return
	}
	mu.Lock()
	s := snapshot()
	mu.Unlock()
	if err := WriteStatus(path, s); err != nil {
		log.Warn().Err(err).Str("file", path).Msg("status not written")
	}
}

// GuardParts are what a guard that restarts through the governor takes
// from the skeleton: supervisord (required: it restarts through it, and
// its processes are read before the first event), the shared file, the
// state store (the restart budgets every guard shares) and the alert
// pipeline, with 5 s for background work to finish at a stop.
func GuardParts(name string, file listener.ConfigFile) listener.Parts {
	return listener.Parts{
		Name: name,
		Needs: listener.Needs{
			Supervisor:       listener.SupervisorRequired,
			ReconcileOnStart: true,
			Grace:            5 * time.Second,
		},
		File:  file,
		Store: durable.Opener{Alerts: true},
	}
}

// Governed is what a guard's status says of its last action on a process
// and of the process's restart budget, the same in every guard's status
// file (embedded: its fields sit beside the guard's own in the JSON).
type Governed struct {
	LastAction string    `json:"last_action,omitempty"`
	ActionAt   time.Time `json:"action_at,omitzero"`
	Restarts   string    `json:"restarts,omitempty"` // "1 of 3 used"
	// RestartsUsed of RestartsMax in the budget's window; 0 of 0 until the
	// guard asked the governor about the process (for the exporter).
	RestartsUsed int `json:"restarts_used"`
	RestartsMax  int `json:"restarts_max"`
}

// NewGoverned is the status of the last action (already redacted) and of
// the budget d.
func NewGoverned(action string, at time.Time, d governor.Decision) Governed {
	g := Governed{LastAction: action, ActionAt: at}
	if d.Max > 0 {
		g.Restarts = fmt.Sprintf("%d of %d used", d.Used, d.Max)
		g.RestartsUsed, g.RestartsMax = d.Used, d.Max
	}
	return g
}
