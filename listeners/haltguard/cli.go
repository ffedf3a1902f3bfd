package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/logging"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the command ran but did not fully succeed (halt incomplete, resume refused)
	exitUsage  = 2 // bad flags or bad configuration
	exitHalted = 3 // status: trading is halted; gate: refused to start while halted
)

// Bounds of the operator commands.
const (
	checkWithin   = 5 * time.Second  // reading supervisord or the latch
	deliverWithin = 10 * time.Second // pushing the alerts a command committed
)

const usage = `haltguard: superguard's kill switch

Usage:
  haltguard [-config FILE] [-state FILE] [-log-level LEVEL]   run as supervisord's event listener
  haltguard -check [-config FILE]                              validate the config (and against supervisord when reachable)
  haltguard halt --reason TEXT [--by NAME] [--timeout D]       halt trading now
  haltguard resume [--start] [--force] [--by NAME]             clear the halt latch (and start the targets back)
  haltguard status [-config FILE]                              latched or not, since when, why, and every target's state
  haltguard gate [-config FILE] -- COMMAND [ARGS...]           exec COMMAND unless trading is halted
  haltguard incidents | outbox | retry | drop                  alert pipeline operator commands

The config file is -config, else $SUPERGUARD_CONFIG, else /etc/superguard/superguard.yaml.
`

// common are the flags every subcommand takes.
type common struct {
	config, state, level string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "shared YAML config (default $SUPERGUARD_CONFIG, else "+config.DefaultPath+")")
	fs.StringVar(&c.state, "state", "", "state store (default $SUPERGUARD_STATE, else the config's state_path)")
	fs.StringVar(&c.level, "log-level", "", "debug, info, warn or error (default $SUPERGUARD_LOG_LEVEL, else info)")
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// cmdListen runs the event listener (the default command).
func cmdListen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c common
	var check bool
	fs := newFlagSet("haltguard", stderr)
	c.register(fs)
	fs.BoolVar(&check, "check", false, "validate the config and exit")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "haltguard: unknown command %q\n%s", fs.Arg(0), usage)
		return exitUsage
	}
	if check {
		return runCheck(ctx, c.config, stdout, stderr)
	}
	log, err := logging.New(stderr, listenerName, c.level)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard: %v\n", err)
		return exitUsage
	}
	s, err := loadSettings(c.config, c.state, true)
	if err != nil {
		log.Error().Err(err).Msg("configuration")
		return exitUsage
	}
	if err := runListener(ctx, s, stdin, stdout, log); err != nil {
		log.Error().Err(err).Msg("haltguard stopped")
		return exitFailed
	}
	return exitOK
}

// runCheck validates the config file, then the haltguard section against
// the running supervisord when it can be reached.
func runCheck(ctx context.Context, configFlag string, stdout, stderr io.Writer) int {
	path := config.Path(configFlag)
	if err := config.Check(path); err != nil {
		fmt.Fprintf(stderr, "haltguard: %v\n", err)
		return exitUsage
	}
	s, err := loadSettings(configFlag, "", false)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard: %v\n", err)
		return exitUsage
	}
	name := "config"
	if path != "" {
		name = "config " + path
	}
	client, err := supervisor.New(s.Supervisor)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard: %s: supervisord not configured (%v): checked the file only\n", name, err)
		fmt.Fprintf(stdout, "haltguard: %s: OK (file only)\n", name)
		return exitOK
	}
	defer client.Close()
	cctx, cancel := context.WithTimeout(ctx, checkWithin)
	defer cancel()
	procs, err := client.GetAllProcessInfo(cctx)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard: %s: supervisord not reachable (%v): checked the file only\n", name, err)
		fmt.Fprintf(stdout, "haltguard: %s: OK (file only)\n", name)
		return exitOK
	}
	if err := s.Halt.Check(procs); err != nil {
		fmt.Fprintf(stderr, "haltguard: %s: %v\n", name, prefixLines("listeners."+listenerName+".", err))
		return exitUsage
	}
	fmt.Fprintf(stdout, "haltguard: %s: OK (checked against supervisord at %s)\n", name, client.URL())
	return exitOK
}

// cli is what the operator subcommands share: settings, a logger on
// stderr, the supervisord client and the engine.
type cli struct {
	s      *settings
	log    zerolog.Logger
	client *supervisor.Client
	stores *lazyStore
	pipe   *alerts
	engine *halt.Engine
}

func openCLI(ctx context.Context, c common, stderr io.Writer) (*cli, error) {
	log, err := logging.New(stderr, listenerName, c.level)
	if err != nil {
		return nil, err
	}
	s, err := loadSettings(c.config, c.state, false)
	if err != nil {
		return nil, err
	}
	client, err := supervisor.New(s.Supervisor)
	if err != nil {
		return nil, fmt.Errorf("supervisord client: %w", err)
	}
	pipe := newAlerts(s.Shared, log)
	stores := newLazyStore(s.StatePath, pipe.attach)
	if _, err := stores.get(ctx); err != nil {
		log.Error().Err(err).Msg("state store")
	}
	pages, err := newPages(s.Pages.Host, s.Pages.Runbook, pipe, log)
	if err != nil {
		client.Close()
		_ = stores.close()
		return nil, err
	}
	engine, err := halt.New(s.Halt, halt.Deps{Supervisor: client, Latch: halt.NewStoreLatch(stores.get), Pager: pages, Logger: log})
	if err != nil {
		client.Close()
		_ = stores.close()
		return nil, err
	}
	return &cli{s: s, log: log, client: client, stores: stores, pipe: pipe, engine: engine}, nil
}

func (c *cli) close() {
	c.client.Close()
	if err := c.stores.close(); err != nil {
		c.log.Error().Err(err).Msg("close state store")
	}
}

// deliver gives the alert senders a moment to push what this command
// committed; a running listener's senders deliver anything left.
func (c *cli) deliver(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, deliverWithin)
	defer cancel()
	c.pipe.flush(ctx)
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

// cmdHalt is the manual kill switch.
func cmdHalt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	var reason, by string
	var timeout time.Duration
	fs := newFlagSet("haltguard halt", stderr)
	c.register(fs)
	fs.StringVar(&reason, "reason", "", "why (required): recorded in the latch and the page")
	fs.StringVar(&by, "by", "", "who is halting (default the login name and host)")
	fs.DurationVar(&timeout, "timeout", 2*time.Minute, "give up retrying an unreachable supervisord after this long")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if strings.TrimSpace(reason) == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "haltguard halt: --reason TEXT is required (and nothing else)")
		return exitUsage
	}
	cl, err := openCLI(ctx, c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard halt: %v\n", err)
		return exitUsage
	}
	defer cl.close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var res *halt.Result
	st, err := cl.engine.Latched(ctx)
	if err == nil && st.Latched {
		fmt.Fprintf(stdout, "already halted since %s by %s: %s\nmaking sure every target is stopped\n",
			st.Record.Since.Local().Format(time.RFC3339), st.Record.By, st.Record.Reason)
		res = cl.engine.Enforce(ctx, st.Record, nil, "cli")
	} else {
		if err != nil {
			fmt.Fprintf(stderr, "haltguard halt: cannot read the latch (%v): halting anyway\n", err)
		}
		res = cl.engine.Halt(ctx, halt.Request{Reason: reason, By: operator(by), Trigger: halt.Trigger{Source: "cli"}})
	}
	waitLatch(ctx, cl.engine)
	cl.deliver(context.WithoutCancel(ctx))
	printResult(stdout, res)
	if !res.Done() {
		return exitFailed
	}
	return exitOK
}

// waitLatch waits, bounded by ctx, for a latch write being retried.
func waitLatch(ctx context.Context, e *halt.Engine) {
	done := make(chan struct{})
	go func() {
		e.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func printResult(w io.Writer, res *halt.Result) {
	r := res.Record
	status := "HALTED"
	if !res.Done() {
		status = "HALT INCOMPLETE"
	}
	fmt.Fprintf(w, "%s (trace %s): %d target(s) stopped in %s\n", status, r.TraceID, len(res.Stopped), res.Duration.Round(time.Millisecond))
	line := func(label string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(w, "  %-14s %s\n", label+":", strings.Join(names, ", "))
		}
	}
	line("stopped", res.Stopped)
	line("SIGKILLed", res.Killed)
	line("STILL RUNNING", res.Survivors)
	for name, e := range res.StopErrors {
		fmt.Fprintf(w, "  %-14s %s: %s\n", "error:", name, e)
	}
	if res.LatchErr != nil {
		fmt.Fprintf(w, "  %-14s NOT RECORDED: %v\n", "latch:", res.LatchErr)
	}
	if f := res.Flatten; f != nil {
		if f.OK() {
			fmt.Fprintf(w, "  %-14s ok in %s\n", "flatten:", f.Duration.Round(time.Millisecond))
		} else {
			fmt.Fprintf(w, "  %-14s FAILED: %s\n", "flatten:", f.Err)
		}
	}
	if res.SupervisorDown {
		fmt.Fprintln(w, "  supervisord is shutting down: it stops every process itself; the latch holds when it starts again")
	}
	fmt.Fprintln(w, "resume with: haltguard resume --start")
}

// cmdResume clears the latch.
func cmdResume(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	var opts halt.ResumeOptions
	var by string
	fs := newFlagSet("haltguard resume", stderr)
	c.register(fs)
	fs.BoolVar(&opts.Start, "start", false, "start the halt targets back")
	fs.BoolVar(&opts.Force, "force", false, "resume although a critical program is not RUNNING")
	fs.StringVar(&by, "by", "", "who is resuming (default the login name and host)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "haltguard resume: unexpected %q\n", fs.Arg(0))
		return exitUsage
	}
	cl, err := openCLI(ctx, c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard resume: %v\n", err)
		return exitUsage
	}
	defer cl.close()
	opts.By = operator(by)
	res, err := cl.engine.Resume(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard resume: refused: %v\n", err)
		return exitFailed
	}
	cl.deliver(ctx)
	if res.Latch.Latched {
		fmt.Fprintf(stdout, "resumed: halt latch cleared (was set %s by %s: %s)\n",
			res.Latch.Record.Since.Local().Format(time.RFC3339), res.Latch.Record.By, res.Latch.Record.Reason)
	} else {
		fmt.Fprintln(stdout, "trading was not halted")
	}
	if len(res.CriticalDown) > 0 {
		fmt.Fprintf(stdout, "forced while down: %s\n", strings.Join(res.CriticalDown, ", "))
	}
	if opts.Start {
		fmt.Fprintf(stdout, "started: %s\n", orNone(res.Started))
		for name, e := range res.StartErrors {
			fmt.Fprintf(stdout, "start failed: %s: %s\n", name, e)
		}
		if len(res.StartErrors) > 0 {
			return exitFailed
		}
	}
	return exitOK
}

// cmdStatus prints the latch and the state of every critical program and
// target. Exit code 3 means halted.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("haltguard status", stderr)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if c.level == "" {
		c.level = "warn"
	}
	cl, err := openCLI(ctx, c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard status: %v\n", err)
		return exitUsage
	}
	defer cl.close()
	st, err := cl.engine.Status(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "haltguard status: %v\n", err)
		return exitFailed
	}
	printStatus(stdout, st, time.Now())
	if st.Latch.Latched {
		return exitHalted
	}
	return exitOK
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
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nROLE\tPROCESS\tSTATE\tDESCRIPTION")
	for _, p := range st.Critical {
		fmt.Fprintf(tw, "critical\t%s\t%s\t%s\n", p.FullName(), p.State, p.Description)
	}
	for _, p := range st.Targets {
		fmt.Fprintf(tw, "target\t%s\t%s\t%s\n", p.FullName(), p.State, p.Description)
	}
	_ = tw.Flush()
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// cmdGate execs COMMAND unless trading is halted. Put it in front of a
// strategy's command so that a strategy spawned before haltguard (after a
// reboot) refuses to trade while the latch is set; supervisord then marks it
// FATAL with the message in its stderr log. It fails closed: a latch that
// cannot be read refuses too.
func cmdGate(ctx context.Context, args []string, stderr io.Writer) int {
	var c common
	fs := newFlagSet("haltguard gate", stderr)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "haltguard gate: no command: use haltguard gate [flags] -- COMMAND [ARGS...]")
		return exitUsage
	}
	refuse := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "haltguard gate: "+format+"; refusing to start %s\n", append(a, strings.Join(argv, " "))...)
		return exitHalted
	}
	path := config.Path(c.config)
	// The gate only reads the latch: it must not need the sinks' secrets,
	// which a strategy's environment has no reason to carry.
	shared, err := config.LoadUnresolved(path)
	if err != nil {
		return refuse("cannot read the config (%v), so cannot tell whether trading is halted", err)
	}
	stores := newLazyStore(statePathFor(c.state, shared), nil)
	defer func() { _ = stores.close() }()
	ctx, cancel := context.WithTimeout(ctx, checkWithin)
	defer cancel()
	halted, r, err := halt.Halted(ctx, halt.NewStoreLatch(stores.get))
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
		return exitFailed
	}
	if err := stores.close(); err != nil {
		fmt.Fprintf(stderr, "haltguard gate: close state store: %v\n", err)
	}
	err = syscall.Exec(bin, argv, os.Environ())
	fmt.Fprintf(stderr, "haltguard gate: exec %s: %v\n", bin, err)
	return exitFailed
}

func statePathFor(flagValue string, shared *config.Config) string {
	return state.Path(flagValue, shared.StatePath)
}
