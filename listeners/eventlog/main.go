package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/superguard/superguard/pkg/supervisor"
)

func main() { os.Exit(run()) }

// run parses flags, runs the tap on the process's stdin and stdout, and
// turns the outcome into an exit status.
func run() int {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2 // parseFlags printed it, with the usage
	}
	cfg.Supervisor = supervisor.ConfigFromEnv()
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "eventlog:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := Run(ctx, cfg, os.Stdin, os.Stdout, os.Stderr); err != nil {
		// Run has logged a desynchronised stream; this line also covers
		// errors from before the logger existed.
		fmt.Fprintln(os.Stderr, "eventlog:", err)
		return 1
	}
	return 0
}
