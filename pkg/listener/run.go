package listener

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/superguard/superguard/pkg/confdoctor"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// parts are what Open builds for this listener.
func (s *Spec[S]) parts() Parts {
	return s.Parts
}

// checkWithin bounds -check's call to supervisord.
const checkWithin = 5 * time.Second

// Main is a listener binary's main: Run with the process's arguments and
// standard streams, then exit with its code.
func Main[S any](spec Spec[S]) {
	os.Exit(Run(spec, os.Args[1:], IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}

// Run dispatches the command line and returns the exit code (a
// listener's main passes os.Args[1:] and the process's standard streams,
// and exits with it): a subcommand
// (its first argument names one), -h, --version, -check, or the event
// listener itself on io.Stdin/io.Stdout. SIGTERM and SIGINT cancel it.
func Run[S any](spec Spec[S], args []string, io IO) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch name := args[0]; name {
		case "help":
			spec.printUsage(io.Stdout, spec.flagDefaults())
			return ExitOK
		case "version":
			fmt.Fprintln(io.Stdout, Version(spec.Name))
			return ExitOK
		default:
			if c, ok := spec.command(name); ok {
				return c.Run(ctx, args[1:], io)
			}
			fmt.Fprintf(io.Stderr, "%s: unknown command %q (commands: %s; -h for help)\n", spec.Name, name, spec.commandNames())
			return ExitUsage
		}
	}
	return spec.listen(ctx, args, io)
}

// cmdLine is the listener's command line.
type cmdLine[S any] struct {
	common      CommonFlags
	dialect     eventlistener.Dialect
	eventsState string
	check       bool
	fileOnly    bool
	supConf     string
	version     bool
	apply       func(*S)
}

func (s *Spec[S]) flagSet(out io.Writer) (*flag.FlagSet, *cmdLine[S]) {
	cl := &cmdLine[S]{dialect: eventlistener.Supervisor4}
	fs := flag.NewFlagSet(s.Name, flag.ContinueOnError)
	fs.SetOutput(out)
	cl.common.Register(fs, s.File == nil)
	fs.TextVar(&cl.dialect, "dialect", cl.dialect, "supervisor4 (real supervisord: len counts characters) or gosupervisord (len counts bytes)")
	fs.StringVar(&cl.eventsState, "events-state", "", "delivery-tracking file of the protocol loop, to recognise re-sent events and gaps across restarts (\"none\": memory only; costs a small file write per event)")
	fs.StringVar(&cl.eventsState, "state-file", "", "the same as -events-state (eventlog's older name)")
	fs.BoolVar(&cl.check, "check", false, "validate the config and exit; also against supervisord's processes, which must be reachable unless -file-only")
	fs.BoolVar(&cl.fileOnly, "file-only", false, "with -check: check the config alone, without supervisord")
	fs.StringVar(&cl.supConf, "supervisord-conf", "", "with -check: the supervisord.conf that runs this listener, checked too (default $"+confdoctor.EnvPath+", else "+confdoctor.DefaultPath+", else supervisord's search order; \"none\": skip)")
	fs.BoolVar(&cl.version, "version", false, "print the version and exit")
	if s.Flags != nil {
		cl.apply = s.Flags(fs)
	}
	return fs, cl
}

func (s *Spec[S]) flagDefaults() string {
	var b bytes.Buffer
	fs, _ := s.flagSet(&b)
	fs.PrintDefaults()
	return b.String()
}

// listen parses the listener's flags and runs -check, --version or the
// listener.
func (s *Spec[S]) listen(ctx context.Context, args []string, io IO) int {
	fs, cl := s.flagSet(io.Stderr)
	fs.Usage = func() { s.printUsage(io.Stdout, s.flagDefaults()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "%s: unknown command %q (commands: %s; -h for help)\n", s.Name, fs.Arg(0), s.commandNames())
		return ExitUsage
	}
	if cl.version {
		fmt.Fprintln(io.Stdout, Version(s.Name))
		return ExitOK
	}
	if cl.check {
		return s.runCheck(ctx, cl, io)
	}
	err := s.serve(ctx, cl, io)
	var usage usageError
	switch {
	case errors.As(err, &usage):
		return ExitUsage
	case err != nil:
		return ExitFailed
	}
	return ExitOK
}

// section decodes the listener's section of shared, lays the flags over
// it, and prepares it.
func (s *Spec[S]) section(shared *config.Config, cl *cmdLine[S]) (S, error) {
	var sec S
	if s.File != nil {
		if err := s.File.Section(shared, s.Name, &sec); err != nil {
			return sec, err
		}
	}
	if cl.apply != nil {
		cl.apply(&sec)
	}
	if s.Prepare != nil {
		if err := s.Prepare(&sec); err != nil {
			return sec, s.locate(shared, err)
		}
	}
	return sec, nil
}

// locate adds the config file's line to err where it names a YAML path.
func (s *Spec[S]) locate(shared *config.Config, err error) error {
	if s.File == nil {
		return err
	}
	return s.File.Locate(shared, err)
}

// runCheck is -check: the file with its sinks' secrets, the listener's
// section, then the section against supervisord's processes when
// supervisord can be reached.
func (s *Spec[S]) runCheck(ctx context.Context, cl *cmdLine[S], io IO) int {
	path, name := "", "config"
	// fail prints each problem of err on a line of its own, every line
	// naming the binary and the file.
	fail := func(err error) int {
		for line := range strings.Lines(err.Error()) {
			line = strings.TrimSuffix(line, "\n")
			if !strings.HasPrefix(line, name+": ") {
				line = name + ": " + line
			}
			fmt.Fprintf(io.Stderr, "%s: %s\n", s.Name, line)
		}
		return ExitUsage
	}
	shared := config.Default()
	if s.File != nil {
		path = config.Path(cl.common.Config)
		if path != "" {
			name = "config " + path
		}
		// The supervisor password is read only to check against
		// supervisord.
		var err error
		if shared, err = s.File.Load(path, !cl.fileOnly); err != nil {
			return fail(err)
		}
		if s.Store != nil {
			err = s.Store.Check(path, io.Stderr)
		} else {
			err = s.File.Check(path, io.Stderr)
		}
		if err != nil {
			return fail(s.File.Locate(shared, err))
		}
	}
	// The listener's own section (with its flags) and every other one:
	// all their problems at once.
	sec, err := s.section(shared, cl)
	if s.File != nil {
		err = errors.Join(err, s.File.Others(shared, s.Name))
	}
	if err != nil {
		return fail(err)
	}
	found, doctored := s.confDoctor(cl.supConf, shared, &sec, io)
	// ok ends a check that found nothing else: the conf doctor's findings
	// still make it a config error.
	ok := func(how string) int {
		if found > 0 {
			return ExitUsage
		}
		fmt.Fprintf(io.Stdout, "%s: %s: OK (%s%s)\n", s.Name, name, how, doctored)
		return ExitOK
	}
	if cl.fileOnly {
		s.selectorNotes(&sec, nil, false, io)
		return ok("file only")
	}
	procs, url, why, err := s.processes(ctx, shared)
	s.selectorNotes(&sec, procs, why == "", io)
	switch {
	case why == "not configured" && s.Needs.Supervisor == SupervisorOptional:
		// A listener that works without supervisord: nothing more to
		// check against.
		return ok("no supervisord configured: names not checked against its processes")
	case why != "":
		fmt.Fprintf(io.Stderr, "%s: %s: supervisord %s (%v); run with -file-only to check the file alone\n", s.Name, name, why, err)
		if found > 0 {
			return ExitUsage
		}
		return ExitFailed
	}
	if s.Check != nil {
		if err := s.Check(&sec, procs); err != nil {
			return fail(s.locate(shared, err))
		}
	}
	if s.Explain != nil {
		s.Explain(&sec, procs, io.Stdout)
	}
	return ok("checked against supervisord at " + url)
}

// processes reads supervisord's process list for -check (the config
// file's supervisord first, as for any command run from a shell). why says
// why it could not: "not configured" or "not reachable".
func (s *Spec[S]) processes(ctx context.Context, shared *config.Config) (procs []supervisor.ProcessInfo, url, why string, err error) {
	client, err := supervisor.New(SupervisorConfig(shared.Supervisor, false))
	if err != nil {
		return nil, "", "not configured", err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, checkWithin)
	defer cancel()
	if procs, err = client.GetAllProcessInfo(ctx); err != nil {
		return nil, "", "not reachable", err
	}
	return procs, client.URL(), "", nil
}

// selectorNotes tells, for -check, which patterns of the section read
// differently since one selector syntax: a bare word used to be a program
// name only in some fields and now also selects every process of a group
// of that name. With supervisord's processes (known), a note names each
// pattern that now selects more and what to write instead; without them,
// every bare pattern of a field that is not Defaulted gets a note.
func (s *Spec[S]) selectorNotes(sec *S, procs []supervisor.ProcessInfo, known bool, io IO) {
	if s.Selectors == nil {
		return
	}
	for _, f := range s.Selectors(sec) {
		var notes []string
		switch {
		case known:
			for _, w := range procmatch.Widen(f.Patterns, procs) {
				notes = append(notes, w.Note(f.Field))
			}
		case !f.Defaulted:
			for i, p := range f.Patterns {
				if !strings.Contains(p, ":") {
					notes = append(notes, procmatch.BareNote(f.Field, i, p))
				}
			}
		}
		for _, n := range notes {
			fmt.Fprintf(io.Stderr, "%s: note: %s\n", s.Name, n)
		}
	}
}
