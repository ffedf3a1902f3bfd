package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/state"
)

// gateCmd execs COMMAND unless trading is halted:
// `haltguard gate [-latch FILE[,FILE]] -- COMMAND [ARGS...]`. Put it in
// front of a strategy's command so that a strategy spawned before haltguard
// (after a reboot) refuses to trade while the latch is set; supervisord then
// marks it FATAL with the message in its stderr log. It reads only the
// latch files (readable by the strategies' user, holding no secret), never
// the state store, and never creates anything. It fails closed: a latch
// file that is missing or cannot be read, or no way to find it (no -latch
// and no readable config), refuses too.
var gateCmd = listener.Command{Name: "gate", Synopsis: "[-latch FILE[,FILE] | -config FILE] -- COMMAND [ARGS...]\texec COMMAND unless trading is halted", Run: runGate}

func runGate(ctx context.Context, args []string, sio listener.IO) int {
	// Until it has decided, a stop (haltguard stopping a target started
	// while halted) must not cut the gate's message short.
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	stderr := sio.Stderr
	var c listener.CommonFlags
	fs := newFlagSet("gate", &c, stderr)
	latchFlag := fs.String("latch", "", "the halt latch files, comma-separated (default: listeners.haltguard.latch_file and latch_mirror of the config)")
	if err := fs.Parse(args); err != nil {
		return listener.ExitUsage
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "haltguard gate: no command: use haltguard gate [flags] -- COMMAND [ARGS...]")
		return listener.ExitUsage
	}
	refuse := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "haltguard gate: "+format+"; refusing to start %s\n", append(a, strings.Join(argv, " "))...)
		return listener.ExitHalted
	}
	paths := listener.SplitList(*latchFlag)
	if len(paths) == 0 {
		var err error
		if paths, err = gateLatchPaths(c); err != nil {
			return refuse("cannot find the halt latch (%v), so cannot tell whether trading is halted", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, checkWithin)
	defer cancel()
	halted, r, err := halt.Halted(ctx, &halt.FileLatch{Paths: paths})
	if err != nil {
		return refuse("cannot read the halt latch (%v)", err)
	}
	if halted {
		return refuse("trading is HALTED since %s by %s: %s (trace %s); resume with `haltguard resume --start`",
			r.Since.Local().Format(time.RFC3339), r.By, r.Reason, r.TraceID)
	}
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(stderr, "haltguard gate: %v\n", err)
		return listener.ExitFailed
	}
	signal.Reset(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	err = syscall.Exec(bin, argv, os.Environ())
	fmt.Fprintf(stderr, "haltguard gate: exec %s: %v\n", bin, err)
	return listener.ExitFailed
}

// gateLatchPaths finds the latch files from the config file: the flag's,
// $SUPERGUARD_CONFIG's or the default one, which must exist and be
// readable (a missing default is no answer: the gate cannot know where
// haltguard keeps the latch).
func gateLatchPaths(c listener.CommonFlags) ([]string, error) {
	path := config.Path(c.Config)
	if path == "" {
		return nil, fmt.Errorf("no -latch, and no config file (%s does not exist)", config.DefaultPath)
	}
	shared, err := config.LoadUnresolved(path)
	if err != nil {
		return nil, err
	}
	var sec section
	if err := shared.Listener(listenerName, &sec); err != nil {
		return nil, err
	}
	return sec.LatchPaths(state.Path(c.State, shared.StatePath)), nil
}
