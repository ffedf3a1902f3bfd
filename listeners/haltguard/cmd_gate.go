package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/state"
)

// gateCmd execs COMMAND unless trading is halted:
// `haltguard gate -- COMMAND [ARGS...]`. Put it in front of a strategy's
// command so that a strategy spawned before haltguard (after a reboot)
// refuses to trade while the latch is set; supervisord then marks it FATAL
// with the message in its stderr log. It fails closed: a config or a latch
// that cannot be read refuses too.
var gateCmd = listener.Command{Name: "gate", Synopsis: "[-config FILE] -- COMMAND [ARGS...]\texec COMMAND unless trading is halted", Run: runGate}

func runGate(ctx context.Context, args []string, sio listener.IO) int {
	stderr := sio.Stderr
	var c listener.CommonFlags
	fs := newFlagSet("gate", &c, stderr)
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
	// The gate only reads the latch: it must not need the sinks' secrets,
	// which a strategy's environment has no reason to carry.
	shared, err := config.LoadUnresolved(config.Path(c.Config))
	if err != nil {
		return refuse("cannot read the config (%v), so cannot tell whether trading is halted", err)
	}
	store := durable.NewStore(state.Path(c.State, shared.StatePath))
	defer func() { _ = store.Close() }()
	ctx, cancel := context.WithTimeout(ctx, checkWithin)
	defer cancel()
	halted, r, err := halt.Halted(ctx, halt.NewStoreLatch(store.Get))
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
	if err := store.Close(); err != nil {
		fmt.Fprintf(stderr, "haltguard gate: close state store: %v\n", err)
	}
	err = syscall.Exec(bin, argv, os.Environ())
	fmt.Fprintf(stderr, "haltguard gate: exec %s: %v\n", bin, err)
	return listener.ExitFailed
}
