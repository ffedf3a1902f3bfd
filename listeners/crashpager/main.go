package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert/opscli"
	"github.com/superguard/superguard/pkg/logging"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run turns the command line into an exit code: an operator subcommand,
// -check, or the listener itself.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if len(args) > 0 && opscli.IsCommand(args[0]) {
		return opscli.Run(ctx, args, stdout, stderr)
	}
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "crashpager:", err)
		return 2
	}
	if opts.check {
		if err := check(opts, os.Getenv, stderr); err != nil {
			fmt.Fprintln(stderr, "crashpager:", err)
			return 1
		}
		fmt.Fprintln(stdout, "crashpager: config ok")
		return 0
	}
	// The protocol loop, the senders, the dead-man pinger and the Watchdog
	// all log: one lock keeps their lines whole whatever stderr is.
	log, err := logging.New(zerolog.SyncWriter(stderr), listenerName, opts.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "crashpager:", err)
		return 2
	}
	if err := Run(ctx, opts, stdin, stdout, log); err != nil {
		log.Error().Err(err).Msg("crashpager stopped")
		return 1
	}
	return 0
}
