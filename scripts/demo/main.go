// Command demo plays superguard's demo: `make demo` builds every binary,
// makes a real supervisord available and runs this, which starts a small
// trading stack from supervisor-conf/demo/ in a temporary directory (a
// risk manager, a market-data feed, a trading group of fake strategies that
// serve /health and emit heartbeats, and every superguard listener that is
// built), then plays a narrated scenario against it and prints what
// happens as it happens: a frozen feed, a hung strategy, a memory leak, a
// crash loop, the risk manager's death and the halt, a start refused while
// halted, the resume. It stops everything it started on exit and on
// Ctrl-C.
//
//	demo [-bin bin] [-conf supervisor-conf/demo] [-supervisord PATH] [-up] [-keep] [-color auto|always|never]
//
// -up starts the stack and keeps it running until Ctrl-C, printing how to
// reach supervisorctl, the web UI, the logs and the operator commands.
// Nothing leaves the machine: alerts go to the listeners' logs and the
// state store. SUPERGUARD_DEMO_SINKS=FILE opts in to real sinks (a YAML file
// with a sinks: list as in superguard.yaml, secrets by *_file or *_env).
//
// Exit status: 0 when every step did what it shows, 1 when one did not, 2
// on a usage error, 130 when interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line.
type options struct {
	bin, conf, supervisord, dir, color string
	up, keep                           bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "bin", "directory of the built binaries (listeners, fakestrategy)")
	fs.StringVar(&o.conf, "conf", "supervisor-conf/demo", "directory of the demo's templates (supervisord.conf, superguard.yaml)")
	fs.StringVar(&o.supervisord, "supervisord", os.Getenv("SUPERGUARD_SUPERVISORD"), "supervisord to run (default $SUPERGUARD_SUPERVISORD, else supervisord on PATH)")
	fs.StringVar(&o.dir, "dir", "", "directory for the stack (default: a new temporary one, removed afterwards)")
	fs.StringVar(&o.color, "color", "auto", "colour: auto (on a terminal), always or never")
	fs.BoolVar(&o.up, "up", false, "start the stack and keep it running until Ctrl-C, without the scenario")
	fs.BoolVar(&o.keep, "keep", false, "keep the directory (logs, state store) afterwards")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.supervisord == "" {
		o.supervisord = "supervisord"
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 2
	}
	tl, err := newTimeline(stdout, o.color)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 2
	}
	supervisord, err := exec.LookPath(o.supervisord)
	if err != nil {
		fmt.Fprintf(stderr, "demo: supervisord: %v (make demo installs one: scripts/install-supervisor.sh)\n", err)
		return 2
	}
	version, _ := exec.Command(supervisord, "--version").Output()
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 2
	}

	dir, temp := o.dir, o.dir == ""
	if temp {
		if dir, err = os.MkdirTemp("", "superguard-demo-"); err != nil {
			fmt.Fprintf(stderr, "demo: %v\n", err)
			return 1
		}
	} else if dir, err = filepath.Abs(dir); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 2
	}
	st, missing, pass, err := prepare(dir, bin, o.conf, os.Getenv("SUPERGUARD_DEMO_SINKS"))
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		if temp {
			os.RemoveAll(dir)
		}
		return 2
	}

	defer func() {
		if err := st.stop(); err != nil {
			tl.fail("%v", err)
			code = 1
		}
		switch {
		case o.keep || (code != 0 && code != 130):
			tl.raw("\nThe stack's files are kept in %s (logs in log/, the state store in lib/).\n", dir)
		case temp:
			os.RemoveAll(dir)
		}
	}()

	tl.raw("%s\n", tl.bold("superguard demo: a trading stack under a real supervisord, guarded by superguard"))
	tl.raw("  supervisord %s (%s), directory %s\n", strings.TrimSpace(string(version)), supervisord, dir)
	if len(pass) > 0 || os.Getenv("SUPERGUARD_DEMO_SINKS") != "" {
		tl.raw("  alerts also go to the sinks of SUPERGUARD_DEMO_SINKS=%s (%s)\n", os.Getenv("SUPERGUARD_DEMO_SINKS"), st.data.RouteSinks)
	} else {
		tl.raw("  alerts go to the listeners' logs and the state store only (nothing leaves this machine)\n")
	}
	tl.raw("\n")

	if err := st.up(ctx, tl, supervisord, pass, missing); err != nil {
		if ctx.Err() != nil {
			tl.skip("interrupted: stopping everything")
			return 130
		}
		tl.fail("%v", err)
		return 1
	}
	al := newAlerts(st.store, tl)
	followCtx, stopFollow := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() { al.follow(followCtx); close(followed) }()
	defer func() { stopFollow(); <-followed }()

	if o.up {
		printReach(tl, st)
		<-ctx.Done()
		tl.skip("interrupted: stopping everything")
		return 0
	}

	sc := &scenario{st: st, tl: tl, al: al}
	start := time.Now()
	sc.play(ctx, sc.steps())
	if ctx.Err() != nil {
		tl.skip("interrupted: stopping everything")
		return 130
	}
	al.poll(ctx)
	sc.summary(time.Since(start), al.count())
	if len(sc.failed) > 0 {
		return 1
	}
	return 0
}

// up starts the stack and waits until it is ready: every program RUNNING
// and, with healthprobe, every probe healthy.
func (s *stack) up(ctx context.Context, tl *timeline, supervisord string, pass, missing []string) error {
	var names []string
	for _, l := range s.data.Listeners {
		names = append(names, l.Name)
	}
	tl.line(markStep, "starting the stack")
	tl.info("risk_manager, md_feed, the trading group (%d strategies behind haltguard's gate)", len(s.data.Strategies))
	tl.info("listeners: %s", strings.Join(names, ", "))
	for _, m := range missing {
		tl.skip("%s is not built yet: its part of the story is skipped", m)
	}
	if err := s.check(); err != nil {
		return err
	}
	t0 := time.Now()
	if err := s.start(ctx, supervisord, pass); err != nil {
		return err
	}
	if err := s.allRunning(ctx, 60*time.Second); err != nil {
		return err
	}
	if err := s.openStore(ctx); err != nil {
		return err
	}
	if err := s.allHealthy(ctx, 60*time.Second, t0); err != nil {
		return err
	}
	tl.ok("every program RUNNING and every strategy healthy, %s after start", seconds(time.Since(t0)))
	return nil
}

// summary prints the figures measured.
func (sc *scenario) summary(total time.Duration, alerts int) {
	sc.tl.raw("\n%s\n", sc.tl.bold("What superguard did"))
	for _, f := range sc.figures {
		sc.tl.raw("  %-46s %s\n", f[0], f[1])
	}
	sc.tl.raw("  %-46s %d, each in the state store's outbox and the listeners' logs\n", "alerts sent", alerts)
	if len(sc.failed) > 0 {
		sc.tl.raw("\n%d step(s) did not do what they show: %s\n", len(sc.failed), strings.Join(sc.failed, "; "))
		return
	}
	sc.tl.raw("\nThe scenario took %s. `make demo-up` keeps such a stack running to explore it.\n", seconds(total))
}

// printReach tells how to explore a running stack.
func printReach(tl *timeline, s *stack) {
	bin := s.data.Bin
	cfg := s.config
	tl.raw("\n%s\n", tl.bold("The demo stack is up. Ctrl-C stops everything."))
	tl.raw("  supervisorctl   %s -c %s status\n", s.supervisorctl, s.conf)
	tl.raw("  web UI          %s  (user %s, password %s)\n", s.webURL(), s.data.WebUser, s.data.WebPass)
	tl.raw("  logs            %s/*.log (listeners, JSON), *.err / *.out (programs)\n", s.path("log"))
	tl.raw("\n  Operator commands:\n")
	for _, c := range []string{
		"haltguard status -config " + cfg,
		"haltguard halt --reason drill -config " + cfg,
		"haltguard resume --start -config " + cfg,
		"crashpager incidents -all -config " + cfg,
		"crashpager outbox -config " + cfg,
		"healthprobe status -config " + cfg,
		"memguard status -config " + cfg,
	} {
		name := strings.Fields(c)[0]
		if name == "haltguard" || s.has(name) {
			tl.raw("    %s/%s\n", bin, c)
		}
	}
	tl.raw("\n  Things to try:\n")
	for _, try := range [][2]string{
		{"signal TTIN trading:momentum", "freeze a feed"},
		{"signal USR2 trading:mean_revert", "hang a strategy"},
		{"signal TTOU trading:market_maker", "start a leak"},
		{"signal KILL trading:stat_arb", "crash a strategy"},
		{"signal KILL risk_manager", "halt trading"},
	} {
		tl.raw("    %s -c %s %-34s # %s\n", s.supervisorctl, s.conf, try[0], try[1])
	}
}
