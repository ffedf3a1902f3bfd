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
	"time"
	"unicode/utf8"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/state"
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
type echoCmd struct{}

func (echoCmd) Name() string     { return "echo" }
func (echoCmd) Synopsis() string { return "ARGS...\tprint ARGS" }
func (echoCmd) Run(_ context.Context, args []string, io IO) int {
	fmt.Fprintln(io.Stdout, strings.Join(args, " "))
	return ExitOK
}

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
		Commands: []Command{echoCmd{}},
		Needs:    needs,
	}
}

func frame(serial int64, name, payload string) string {
	return fmt.Sprintf("ver:3.0 server:supervisor serial:%d pool:testguard poolserial:%d eventname:%s len:%d\n%s",
		serial, serial, name, utf8.RuneCountInString(payload), payload)
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
		{name: "help lists the subcommands", args: []string{"-h"}, wantStdout: "  echo       ARGS...   "},
		{name: "help lists the operator commands", args: []string{"help"}, wantStdout: "  retry      ID | --all-dead"},
		{name: "help shows the exit codes", args: []string{"--help"}, wantStdout: "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 halted."},
		{name: "version", args: []string{"--version"}, wantStdout: "testguard dev (commit unknown, go"},
		{name: "version command", args: []string{"version"}, wantStdout: "testguard dev"},
		{name: "subcommand", args: []string{"echo", "a", "b"}, wantStdout: "a b\n"},
		{name: "unknown subcommand", args: []string{"ecko"}, wantCode: ExitUsage,
			wantStderr: `testguard: unknown command "ecko" (commands: echo, incidents, outbox, retry, drop; -h for help)`},
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

// TestListen runs a listener with a store through the skeleton: the
// section with its flags reaches New, events reach the handler, a TICK
// records the heartbeat, and Drain and Stop run at the end.
func TestListen(t *testing.T) {
	noSupervisorEnv(t)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	conf := writeFile(t, "superguard.yaml", "host: h1\nstate_path: "+statePath+"\nlisteners:\n  testguard: {name: x}\n")
	got := &recorder{}
	in := frame(1, "PROCESS_STATE_RUNNING", "processname:a groupname:g from_state:STARTING pid:1") +
		frame(2, "TICK_5", "when:1741082400")
	var stdout, stderr bytes.Buffer
	code := Run(testSpec(Needs{Store: true, Alerts: true}, got), []string{"-config", conf, "-threshold", "7"},
		IO{Stdin: strings.NewReader(in), Stdout: &stdout, Stderr: &stderr})
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if want := "READY\n" + strings.Repeat("RESULT 2\nOKREADY\n", 2); stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if got.sec != (section{Threshold: 7, Name: "x"}) {
		t.Errorf("section %+v", got.sec)
	}
	if strings.Join(got.events, ",") != "PROCESS_STATE_RUNNING,TICK_5" || !got.drained || !got.stopped {
		t.Errorf("events %v, drained %v, stopped %v", got.events, got.drained, got.stopped)
	}
	if got.env.Config.Host != "h1" || got.env.StatePath != statePath || got.env.Instance == "" || got.env.Supervisor != nil {
		t.Errorf("env %+v", got.env)
	}
	st, err := state.Open(t.Context(), statePath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hb, ok, err := st.Heartbeat(t.Context(), "testguard")
	if err != nil || !ok || !hb.Tick.Equal(time.Unix(1741082400, 0)) || hb.PID != os.Getpid() {
		t.Errorf("heartbeat %+v, %v, %v", hb, ok, err)
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

// TestStoreReopens: a store that cannot be opened at start-up is tried
// again later, and an alert submitted meanwhile is logged whole, not lost.
func TestStoreReopens(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The store's directory is a file for now: opening fails.
	path := filepath.Join(blocker, "state.db")
	noSupervisorEnv(t)
	var logs syncBuffer
	env, err := Open(t.Context(), "testguard", CommonFlags{State: path}, Needs{Store: true, Alerts: true}, Operating, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if !strings.Contains(logs.String(), `"message":"state store unavailable: alerts go to this log only"`) {
		t.Errorf("the failed open was not logged:\n%s", logs.String())
	}
	a := &alert.Alert{Kind: alert.Trigger, Condition: alert.CondExited, Severity: alert.Warning,
		Key: "h/g:a/exited", Host: "h", Program: "a", Group: "g", Summary: "a exited", Listener: "testguard", Time: time.Now()}
	if err := env.Alerts.Submit(t.Context(), a); err == nil {
		t.Fatal("Submit without a store succeeded")
	}
	if !strings.Contains(logs.String(), `"message":"alert not recorded"`) || !strings.Contains(logs.String(), "a exited") {
		t.Fatalf("the alert was not logged whole:\n%s", logs.String())
	}
	// The disk is mended: the next try after ReopenEvery opens the store.
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	env.Store.mu.Lock()
	env.Store.tried = time.Now().Add(-ReopenEvery)
	env.Store.mu.Unlock()
	if err := env.Alerts.Submit(t.Context(), a); err != nil {
		t.Fatalf("Submit once the store opens: %v", err)
	}
	s, err := env.Store.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.ListDeliveries(t.Context(), state.Filter{})
	if err != nil || len(rows) == 0 {
		t.Fatalf("outbox %v, %v: want the alert queued", rows, err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
