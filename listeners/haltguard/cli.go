package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
)

// Bounds of the operator commands.
const (
	checkWithin   = 5 * time.Second // reading supervisord or the latch
	deliverWithin = 2 * time.Second // pushing the alerts a command committed, after its result is printed
)

// newFlagSet is a subcommand's flag set with the common flags.
func newFlagSet(name string, c *listener.CommonFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("haltguard "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.Register(fs, false)
	return fs
}

// op is one of the halt, resume and status commands (litestream's shape:
// a type per subcommand). command gives them the common flags, the
// skeleton's parts and the engine, and the exit code for a bad command
// line or config.
type op interface {
	// Flags registers the command's own flags on fs.
	Flags(fs *flag.FlagSet)
	// Check checks them once fs is parsed.
	Check(fs *flag.FlagSet) error
	// Run runs the command with the engine.
	Run(ctx context.Context, cl *cli, sio listener.IO) int
}

// command is the subcommand name running a fresh op from newOp; quiet
// logs at warn unless -log-level says otherwise.
func command(name, synopsis string, quiet bool, newOp func() op) listener.Command {
	return listener.Command{Name: name, Synopsis: synopsis, Run: func(ctx context.Context, args []string, sio listener.IO) int {
		o := newOp()
		var c listener.CommonFlags
		fs := newFlagSet(name, &c, sio.Stderr)
		o.Flags(fs)
		if err := fs.Parse(args); err != nil {
			return listener.ExitUsage
		}
		if err := o.Check(fs); err != nil {
			fmt.Fprintf(sio.Stderr, "haltguard %s: %v\n", name, err)
			return listener.ExitUsage
		}
		if quiet && c.LogLevel == "" {
			c.LogLevel = "warn"
		}
		cl, err := openCLI(ctx, c, sio.Stderr)
		if err != nil {
			fmt.Fprintf(sio.Stderr, "haltguard %s: %v\n", name, err)
			return listener.ExitUsage
		}
		defer cl.close()
		return o.Run(ctx, cl, sio)
	}}
}

// noArgs is Check for a command that takes no arguments.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected %q", fs.Arg(0))
	}
	return nil
}

// cli is what the halt, resume and status commands share: the skeleton's
// parts (the config file's supervisord first, as for any operator command)
// and the engine.
type cli struct {
	env    *listener.Env
	engine *halt.Engine
	pages  *pages
}

func openCLI(ctx context.Context, flags listener.CommonFlags, stderr io.Writer) (*cli, error) {
	env, err := listener.Open(ctx, parts, flags, listener.Operating, stderr)
	if err != nil {
		return nil, err
	}
	s, err := openSection(env)
	if err == nil {
		var engine *halt.Engine
		var p *pages
		if engine, p, err = newEngine(env, s); err == nil {
			return &cli{env: env, engine: engine, pages: p}, nil
		}
	}
	env.Close()
	return nil, err
}

func (c *cli) close() { c.env.Close() }

// deliver gives the alert senders a moment to push what this command
// committed; a running listener's senders deliver anything left.
//
// It runs after the command printed its result, and Ctrl-C ends it: the
// alerts are in the outbox, and the listeners' senders deliver them with
// their own secrets, so a shell without the sinks' secrets or a sink that
// is down never holds the kill switch up.
func (c *cli) deliver(ctx context.Context) {
	c.commitPages(ctx)
	ctx, cancel := context.WithTimeout(ctx, deliverWithin)
	defer cancel()
	durable.Of(c.env).Alerts.Flush(ctx)
}

// commitWithinCLI bounds how long a command waits for a page the store
// refused (locked) to be committed on a retry.
const commitWithinCLI = 30 * time.Second

// commitPages waits, at most commitWithinCLI and until Ctrl-C, for the
// pages whose commit is being retried; one still not committed then is
// in the command's log, whole.
func (c *cli) commitPages(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		c.pages.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	case <-time.After(commitWithinCLI):
	}
}

// operator names who runs a command: "cli:user@host", or "cli:NAME" with --by.
func operator(by string) string {
	if by != "" {
		return "cli:" + by
	}
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		} else {
			name = os.Getenv("USER")
		}
	}
	host, _ := os.Hostname()
	return "cli:" + name + "@" + host
}
