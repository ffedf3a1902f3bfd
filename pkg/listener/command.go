package listener

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
)

// Command is an operator subcommand of a listener binary (litestream's
// shape: one per file, each with its own flags).
type Command struct {
	// Name is the word that selects it: "haltguard NAME ...".
	Name string
	// Synopsis is one line for -h: its arguments, a tab, then what it
	// does.
	Synopsis string
	// Run runs it with the arguments after its name and returns the exit
	// code.
	Run func(ctx context.Context, args []string, io IO) int
}

// IO is a command's standard streams. These are a shell's, never the
// supervisord protocol.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Build information, set by `make build` with -ldflags -X.
var (
	version = "dev"
	commit  = "unknown"
)

// Version is the one-line answer to --version.
func Version(name string) string {
	return fmt.Sprintf("%s %s (commit %s, %s)", name, version, commit, runtime.Version())
}

// commands lists every subcommand of the binary: its own, then those of
// its store (the alert pipeline's operator commands).
func (s *Spec[S]) commands() []Command {
	out := append([]Command(nil), s.Commands...)
	if s.Store != nil {
		out = append(out, s.Store.Commands()...)
	}
	return out
}

func (s *Spec[S]) command(name string) (Command, bool) {
	for _, c := range s.commands() {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// printUsage writes the binary's usage: the listener's flags, then every
// subcommand with its synopsis.
func (s *Spec[S]) printUsage(w io.Writer, flags string) {
	fmt.Fprintf(w, "%s: %s\n\nUsage:\n  %s [flags]            run as supervisord's event listener (stdin/stdout)\n", s.Name, s.Summary, s.Name)
	fmt.Fprintf(w, "  %s -check [flags]     validate the config (against supervisord when reachable)\n", s.Name)
	fmt.Fprintf(w, "  %s --version\n", s.Name)
	if cmds := s.commands(); len(cmds) > 0 {
		fmt.Fprintf(w, "\nCommands (%s COMMAND -h for each one's flags):\n", s.Name)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, c := range cmds {
			fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Synopsis)
		}
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "\nFlags:\n%s", flags)
	s.printEnvironment(w)
	fmt.Fprintf(w, "\nExit codes: %d ok, %d runtime failure, %d usage or config error, %d halted.\n",
		ExitOK, ExitFailed, ExitUsage, ExitHalted)
}

// printEnvironment is -h's account of the variables the binary reads and
// of where it is documented, so that -h alone answers how to run it.
func (s *Spec[S]) printEnvironment(w io.Writer) {
	fmt.Fprintf(w, "\nEnvironment:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  SUPERVISOR_SERVER_URL\tsupervisord's XML-RPC URL (supervisord sets it for its children)\n")
	fmt.Fprintf(tw, "  SUPERVISOR_USERNAME\tits username, with SUPERVISOR_PASSWORD_FILE (a root-only file) or SUPERVISOR_PASSWORD:\n")
	fmt.Fprintf(tw, "  \tsupervisord passes no credentials to children; give them with environment= in the listener's block\n")
	if s.File != nil {
		fmt.Fprintf(tw, "  SUPERGUARD_CONFIG\tthe shared YAML config (-config)\n")
	}
	if s.Store != nil {
		fmt.Fprintf(tw, "  SUPERGUARD_STATE\tthe state store (-state)\n")
	}
	fmt.Fprintf(tw, "  SUPERGUARD_LOG_LEVEL\tdebug, info, warn or error (-log-level)\n")
	_ = tw.Flush()
	fmt.Fprintf(w, "\nLogs are JSON lines on stderr: stdout carries only the protocol (stdout_logfile=NONE).\n")
	fmt.Fprintf(w, "Its supervisord block, commented: supervisor-conf/conf.d/%s.conf (installed in /etc/superguard/conf.d/);\n", s.Name)
	fmt.Fprintf(w, "everything else: README.md.\n")
}

// commandNames is the list of subcommands for an error message.
func (s *Spec[S]) commandNames() string {
	var names []string
	for _, c := range s.commands() {
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Table starts aligned columns for an operator command's output with
// header (columns separated by tabs); Flush the writer when done.
func Table(w io.Writer, header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}
