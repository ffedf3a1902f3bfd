// Package helperprog is the command-line plumbing the harness's helper
// programs (fakestrategy, testlistener) share: flags parsed strictly, -h
// exiting 0, a bad flag or setting exiting 2 with the program's name.
package helperprog

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Main parses the process's command line with parse (which may also read
// the environment through getenv) and runs the program with what it
// returned; it returns the exit code: 0 for -h, 2 for a bad command line,
// else run's.
func Main[C any](name string, parse func(args []string, getenv func(string) string, stderr io.Writer) (C, error), run func(C) int) int {
	cfg, err := parse(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	return run(cfg)
}

// NewFlagSet returns an empty flag set named name that writes its usage
// and errors to stderr and returns them from Parse.
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// Parse parses args with fs and rejects arguments left after the flags.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}
