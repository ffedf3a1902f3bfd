package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/superguard/superguard/pkg/alert/opscli"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run dispatches the subcommands; without one haltguard is the event
// listener. It returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if len(args) > 0 && opscli.IsCommand(args[0]) {
		return opscli.Run(ctx, args, stdout, stderr)
	}
	if len(args) > 0 {
		switch args[0] {
		case "halt":
			return cmdHalt(ctx, args[1:], stdout, stderr)
		case "resume":
			return cmdResume(ctx, args[1:], stdout, stderr)
		case "status":
			return cmdStatus(ctx, args[1:], stdout, stderr)
		case "gate":
			return cmdGate(ctx, args[1:], stderr)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return exitOK
		}
	}
	return cmdListen(ctx, args, stdin, stdout, stderr)
}
