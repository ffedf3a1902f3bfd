package listener

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/superguard/superguard/pkg/eventlistener"
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
		Name:    "testguard",
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
		Needs:    needs,
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

// noSupervisorEnv clears what supervisord gives its children, so the
// skeleton sees no supervisord.
func noSupervisorEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"SUPERVISOR_SERVER_URL", "SUPERVISOR_USERNAME", "SUPERVISOR_PASSWORD",
		"SUPERVISOR_PASSWORD_FILE", "SUPERGUARD_CONFIG", "SUPERGUARD_STATE"} {
		t.Setenv(k, "")
	}
}

func TestCommandLine(t *testing.T) {
	noSupervisorEnv(t)
	good := writeFile(t, "good.yaml", "listeners:\n  testguard: {threshold: 5}\n")
	bad := writeFile(t, "bad.yaml", "listeners:\n  testguard: {threshold: -1}\n")
	unknown := writeFile(t, "unknown.yaml", "listeners:\n  testguard: {treshold: 5}\n")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "help lists the subcommands", args: []string{"-h"}, wantStdout: "  echo  ARGS...  print ARGS\n"},
		{name: "help command", args: []string{"help"}, wantStdout: "  echo  ARGS...  print ARGS\n"},
		{name: "help shows the exit codes", args: []string{"--help"}, wantStdout: "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 halted."},
		{name: "version", args: []string{"--version"}, wantStdout: "testguard dev (commit unknown, go"},
		{name: "version command", args: []string{"version"}, wantStdout: "testguard dev"},
		{name: "subcommand", args: []string{"echo", "a", "b"}, wantStdout: "a b\n"},
		{name: "unknown subcommand", args: []string{"ecko"}, wantCode: ExitUsage,
			wantStderr: `testguard: unknown command "ecko" (commands: echo; -h for help)`},
		{name: "argument after flags", args: []string{"-log-level", "warn", "ecko"}, wantCode: ExitUsage,
			wantStderr: `testguard: unknown command "ecko"`},
		{name: "unknown flag", args: []string{"-bogus"}, wantCode: ExitUsage, wantStderr: "flag provided but not defined: -bogus"},
		{name: "check", args: []string{"-check", "-config", good}, wantStdout: "testguard: config " + good + ": OK (file only)",
			wantStderr: "supervisord not configured"},
		{name: "check a flag", args: []string{"-check", "-config", good, "-threshold", "-2"}, wantCode: ExitUsage,
			wantStderr: "listeners.testguard.threshold: -2: want at least 1"},
		{name: "check the section", args: []string{"-check", "-config", bad}, wantCode: ExitUsage,
			wantStderr: "listeners.testguard.threshold: -1: want at least 1"},
		{name: "check an unknown field", args: []string{"-check", "-config", unknown}, wantCode: ExitUsage,
			wantStderr: "field treshold not found"},
		{name: "check a missing file", args: []string{"-check", "-config", filepath.Join(t.TempDir(), "none.yaml")},
			wantCode: ExitUsage, wantStderr: "no such file"},
		{name: "listen with a bad section", args: []string{"-config", bad}, wantCode: ExitUsage,
			wantStderr: `"message":"configuration"`},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantCode: ExitUsage, wantStderr: `log level \"loud\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(testSpec(Needs{}, &recorder{}), tt.args, IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout with %q, stderr with %q",
					code, stdout.String(), stderr.String(), tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

// TestSupervisorRequired: a listener that needs supervisord refuses to
// start without a URL, as a configuration error.
func TestSupervisorRequired(t *testing.T) {
	noSupervisorEnv(t)
	var stderr bytes.Buffer
	code := Run(testSpec(Needs{Supervisor: SupervisorRequired}, &recorder{}), nil,
		IO{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if code != ExitUsage || !strings.Contains(stderr.String(), "no supervisord url") {
		t.Errorf("exit %d, stderr %s", code, stderr.String())
	}
}
