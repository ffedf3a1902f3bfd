package listener

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener/configfile"
	"github.com/superguard/superguard/pkg/supervisor"
)

// section is the test listener's config section.
type section struct {
	Threshold int    `yaml:"threshold"`
	Name      string `yaml:"name"`
}

// recorder is the test listener's handler: it records events and what the
// skeleton asks of it.
type recorder struct {
	mu       sync.Mutex
	env      *Env
	sec      section
	events   []string
	drained  bool
	stopped  bool
	reconcil []string
}

func (r *recorder) HandleEvent(_ context.Context, ev *eventlistener.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev.EventName)
	return nil
}

func (r *recorder) Reconcile(_ context.Context, rec eventlistener.Reconciliation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reconcil = append(r.reconcil, rec.Reason)
	return nil
}

func (r *recorder) Drain() { r.drained = true }
func (r *recorder) Stop()  { r.stopped = true }

var (
	_ Drainer                  = (*recorder)(nil)
	_ Stopper                  = (*recorder)(nil)
	_ eventlistener.Reconciler = (*recorder)(nil)
)

// echoCmd is a subcommand that prints its arguments.
var echoCmd = Command{Name: "echo", Synopsis: "ARGS...	print ARGS", Run: func(_ context.Context, args []string, io IO) int {
	fmt.Fprintln(io.Stdout, strings.Join(args, " "))
	return ExitOK
}}

// testSpec is the smallest complete listener, with a recorder for tests.
func testSpec(needs Needs, got *recorder) Spec[section] {
	return Spec[section]{
		Parts:   Parts{Name: "testguard", Needs: needs, File: configfile.File{}},
		Summary: "a listener for the skeleton's tests",
		Flags: func(fs *flag.FlagSet) func(*section) {
			threshold := fs.Int("threshold", 0, "override listeners.testguard.threshold")
			return func(s *section) {
				fs.Visit(func(f *flag.Flag) {
					if f.Name == "threshold" {
						s.Threshold = *threshold
					}
				})
			}
		},
		Prepare: func(s *section) error {
			if s.Threshold == 0 {
				s.Threshold = 3
			}
			if s.Threshold < 0 {
				return fmt.Errorf("listeners.testguard.threshold: %d: want at least 1", s.Threshold)
			}
			return nil
		},
		Check: func(s *section, procs []supervisor.ProcessInfo) error { return nil },
		New: func(_ context.Context, env *Env, s section) (eventlistener.Handler, error) {
			got.env, got.sec = env, s
			return got, nil
		},
		Commands: []Command{echoCmd},
	}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommandLine(t *testing.T) {
	good := writeFile(t, "good.yaml", "listeners:\n  testguard: {threshold: 5}\n")
	bad := writeFile(t, "bad.yaml", "listeners:\n  testguard: {threshold: -1}\n")
	unknown := writeFile(t, "unknown.yaml", "listeners:\n  testguard: {treshold: 5}\n")
	testsupport.RunCLI(t, []testsupport.CLICase{
		{Name: "help lists the subcommands", Args: []string{"-h"}, WantStdout: "  echo  ARGS...  print ARGS\n"},
		{Name: "help command", Args: []string{"help"}, WantStdout: "  echo  ARGS...  print ARGS\n"},
		{Name: "help shows the exit codes", Args: []string{"--help"}, WantStdout: "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 halted."},
		{Name: "help names the variables it reads", Args: []string{"-h"}, WantStdout: "  SUPERGUARD_CONFIG      the shared YAML config (-config)\n"},
		{Name: "help says where its block is documented", Args: []string{"-h"}, WantStdout: "supervisor-conf/conf.d/testguard.conf"},
		{Name: "version", Args: []string{"--version"}, WantStdout: "testguard dev (commit unknown, go"},
		{Name: "version command", Args: []string{"version"}, WantStdout: "testguard dev"},
		{Name: "subcommand", Args: []string{"echo", "a", "b"}, WantStdout: "a b\n"},
		{Name: "unknown subcommand", Args: []string{"ecko"}, WantCode: ExitUsage,
			WantStderr: `testguard: unknown command "ecko" (commands: echo; -h for help)`},
		{Name: "argument after flags", Args: []string{"-log-level", "warn", "ecko"}, WantCode: ExitUsage,
			WantStderr: `testguard: unknown command "ecko"`},
		{Name: "unknown flag", Args: []string{"-bogus"}, WantCode: ExitUsage, WantStderr: "flag provided but not defined: -bogus"},
		{Name: "check", Args: []string{"-check", "-config", good}, WantStdout: "testguard: config " + good + ": OK (no supervisord configured: names not checked against its processes)"},
		{Name: "check the file only", Args: []string{"-check", "-file-only", "-config", good}, WantStdout: "testguard: config " + good + ": OK (file only)"},
		{Name: "check a flag", Args: []string{"-check", "-config", good, "-threshold", "-2"}, WantCode: ExitUsage,
			WantStderr: "listeners.testguard.threshold: -2: want at least 1"},
		{Name: "check the section", Args: []string{"-check", "-config", bad}, WantCode: ExitUsage,
			WantStderr: "listeners.testguard.threshold: -1: want at least 1"},
		{Name: "check an unknown field", Args: []string{"-check", "-config", unknown}, WantCode: ExitUsage,
			WantStderr: `testguard: config ` + unknown + `: listeners.testguard: line 2: unknown field "treshold"`},
		{Name: "check a missing file", Args: []string{"-check", "-config", filepath.Join(t.TempDir(), "none.yaml")},
			WantCode: ExitUsage, WantStderr: "no such file"},
		{Name: "listen with a bad section", Args: []string{"-config", bad}, WantCode: ExitUsage,
			WantStderr: `"message":"configuration"`},
		{Name: "bad log level", Args: []string{"-log-level", "loud"}, WantCode: ExitUsage, WantStderr: `log level \"loud\"`},
	}, func(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
		return Run(testSpec(Needs{}, &recorder{}), args, IO{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	})
}

// TestSupervisorRequired: a listener that needs supervisord refuses to
// start without a URL, as a configuration error.
func TestSupervisorRequired(t *testing.T) {
	testsupport.ClearEnv(t)
	var stderr bytes.Buffer
	code := Run(testSpec(Needs{Supervisor: SupervisorRequired}, &recorder{}), nil,
		IO{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if code != ExitUsage || !strings.Contains(stderr.String(), "no supervisord url") {
		t.Errorf("exit %d, stderr %s", code, stderr.String())
	}
}

func TestSelectorNotes(t *testing.T) {
	procs := []supervisor.ProcessInfo{
		{Group: "trading", Name: "a"}, {Group: "trading", Name: "b"}, {Group: "haltguard", Name: "haltguard"},
	}
	type fields struct{ include, exclude, listeners []string }
	spec := Spec[fields]{Parts: Parts{Name: "t"}, Selectors: func(f *fields) []Selector {
		return []Selector{
			{Field: "listeners.t.include", Patterns: f.include},
			{Field: "listeners.t.exclude", Patterns: f.exclude},
			{Field: "listeners.t.listeners", Patterns: f.listeners, Defaulted: true},
		}
	}}
	tests := []struct {
		name  string
		f     fields
		known bool
		want  string
	}{
		{name: "bare word naming a group", f: fields{include: []string{"trading"}, listeners: []string{"haltguard"}}, known: true,
			want: `t: note: listeners.t.include[0]: "trading" now also selects every process of group trading (trading:a, trading:b); write "*:trading" to select only the program` + "\n"},
		{name: "exclude too", f: fields{exclude: []string{"x", "trad*"}}, known: true,
			want: `t: note: listeners.t.exclude[1]: "trad*" now also selects every process of group trading (trading:a, trading:b); write "*:trad*" to select only the program` + "\n"},
		{name: "unchanged meaning", f: fields{include: []string{"a", "trading:*", "*:trading"}}, known: true},
		{name: "supervisord unknown: every bare pattern but the defaults", f: fields{include: []string{"a", "g:*"}, exclude: []string{"b"},
			listeners: []string{"haltguard"}},
			want: `t: note: listeners.t.include[0]: "a" also selects every process of a group named a; write "*:a" to select only the program` + "\n" +
				`t: note: listeners.t.exclude[0]: "b" also selects every process of a group named b; write "*:b" to select only the program` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			spec.selectorNotes(&tt.f, procs, tt.known, IO{Stderr: &stderr})
			if stderr.String() != tt.want {
				t.Errorf("notes =\n%s\nwant\n%s", stderr.String(), tt.want)
			}
		})
	}
}
