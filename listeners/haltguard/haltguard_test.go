package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// fakeGuard records what the handler asks of the guard.
type fakeGuard struct {
	mu      sync.Mutex
	changes []StateChange
	checks  []string
	ticks   int
	remotes []string
}

var _ guard = (*fakeGuard)(nil)

func (g *fakeGuard) OnState(_ context.Context, ch StateChange) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.changes = append(g.changes, ch)
}

func (g *fakeGuard) Check(_ context.Context, procs []supervisor.ProcessInfo, source string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.checks = append(g.checks, source)
}

func (g *fakeGuard) Tick() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ticks++
}

func (g *fakeGuard) Remote(_ context.Context, typ, data string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.remotes = append(g.remotes, typ+" "+data)
	return strings.HasPrefix(typ, "superguard.")
}

type fakeBeater struct {
	beats []time.Time
	err   error
}

func (b *fakeBeater) Beat(_ context.Context, listener string, tick time.Time, _ int, _ time.Time) error {
	if listener != listenerName {
		return errors.New("wrong listener " + listener)
	}
	b.beats = append(b.beats, tick)
	return b.err
}

func TestHandlerRoutesEvents(t *testing.T) {
	g := &fakeGuard{}
	b := &fakeBeater{}
	var logs bytes.Buffer
	h := &handler{guard: g, beat: func(context.Context) (beater, error) { return b, nil }, log: zerolog.New(&logs)}
	tick := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	events := []*eventlistener.Event{
		{Header: eventlistener.Header{EventName: "PROCESS_STATE_FATAL"},
			State: &eventlistener.ProcessState{Process: "risk_manager", Group: "risk", FromState: "BACKOFF", ToState: "FATAL"}},
		{Header: eventlistener.Header{EventName: "PROCESS_STATE_EXITED"},
			State: &eventlistener.ProcessState{Process: "a", Group: "trading", FromState: "RUNNING", ToState: "EXITED", Expected: true, HasExpected: true, PID: 42}},
		{Header: eventlistener.Header{EventName: "TICK_5"}, Tick: &eventlistener.Tick{Period: 5, When: tick}},
		{Header: eventlistener.Header{EventName: "REMOTE_COMMUNICATION"}, Remote: &eventlistener.RemoteComm{Type: "superguard.halt", Data: "{}"}},
		{Header: eventlistener.Header{EventName: "PROCESS_LOG_STDOUT"}, Log: &eventlistener.ProcessLog{Data: "x"}},
		{Header: eventlistener.Header{EventName: "PROCESS_STATE_WEIRD"},
			State: &eventlistener.ProcessState{Process: "risk_manager", Group: "risk", FromState: "RUNNING", ToState: "WEIRD"}},
	}
	for _, ev := range events {
		if err := h.HandleEvent(context.Background(), ev); err != nil {
			t.Fatalf("%s: %v", ev.EventName, err)
		}
	}
	if err := h.Reconcile(context.Background(), eventlistener.Reconciliation{Reason: "gap", Missed: 3}); err != nil {
		t.Fatal(err)
	}

	if len(g.changes) != 2 {
		t.Fatalf("state changes %+v", g.changes)
	}
	if c := g.changes[0]; c.Process != "risk:risk_manager" || c.To != supervisor.ProcessFatal || c.From != "BACKOFF" || c.Time.IsZero() {
		t.Errorf("first change %+v", c)
	}
	if c := g.changes[1]; c.Process != "trading:a" || c.To != supervisor.ProcessExited || !c.Expected || c.PID != 42 {
		t.Errorf("second change %+v", c)
	}
	// The TICK and the unparsable state each ask for a check.
	if g.ticks != 2 || len(b.beats) != 1 || !b.beats[0].Equal(tick) {
		t.Errorf("ticks %d, heartbeats %v", g.ticks, b.beats)
	}
	if len(g.remotes) != 1 || g.remotes[0] != "superguard.halt {}" {
		t.Errorf("remotes %v", g.remotes)
	}
	if len(g.checks) != 1 || g.checks[0] != "gap" {
		t.Errorf("checks %v", g.checks)
	}
	if !strings.Contains(logs.String(), `"missed":3`) {
		t.Errorf("gap not logged: %s", logs.String())
	}
}

func TestHandlerHeartbeatFailureDoesNotFail(t *testing.T) {
	g := &fakeGuard{}
	var logs bytes.Buffer
	h := &handler{guard: g, beat: func(context.Context) (beater, error) { return nil, errors.New("state store unavailable") },
		log: zerolog.New(&logs)}
	ev := &eventlistener.Event{Header: eventlistener.Header{EventName: "TICK_5"}, Tick: &eventlistener.Tick{Period: 5, When: time.Now()}}
	if err := h.HandleEvent(context.Background(), ev); err != nil {
		t.Fatalf("HandleEvent = %v: a heartbeat failure must not FAIL the event", err)
	}
	if g.ticks != 1 || !strings.Contains(logs.String(), "record heartbeat") {
		t.Errorf("ticks %d, log %s", g.ticks, logs.String())
	}
}

func TestSupervisorConfigPrecedence(t *testing.T) {
	file := config.Supervisor{URL: "unix:///file.sock", Username: "fileuser"}
	tests := []struct {
		name      string
		env       map[string]string
		fromFile  config.Supervisor
		preferEnv bool
		wantURL   string
		wantUser  string
	}{
		{name: "listener: env first", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///env.sock", "SUPERVISOR_USERNAME": "envuser"},
			fromFile: file, preferEnv: true, wantURL: "unix:///env.sock", wantUser: "envuser"},
		{name: "listener: credentials from the file when the env has none", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///env.sock"},
			fromFile: file, preferEnv: true, wantURL: "unix:///env.sock", wantUser: "fileuser"},
		{name: "operator: file first", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///env.sock", "SUPERVISOR_USERNAME": "envuser"},
			fromFile: file, wantURL: "unix:///file.sock", wantUser: "fileuser"},
		{name: "operator: env when the file has no supervisor section", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///env.sock"},
			wantURL: "unix:///env.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"SUPERVISOR_SERVER_URL", "SUPERVISOR_USERNAME", "SUPERVISOR_PASSWORD", "SUPERVISOR_PASSWORD_FILE"} {
				t.Setenv(k, tt.env[k])
			}
			got := supervisorConfig(tt.fromFile, tt.preferEnv)
			if got.URL != tt.wantURL || got.Username != tt.wantUser {
				t.Errorf("got URL %q user %q, want %q %q", got.URL, got.Username, tt.wantURL, tt.wantUser)
			}
		})
	}
}

func TestPrintStatus(t *testing.T) {
	since := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	st := &halt.Status{
		Latch: halt.LatchState{Latched: true, Record: halt.Record{Reason: "risk:rm FATAL (event)", Trigger: "risk:rm",
			TriggerState: "FATAL", By: "haltguard", TraceID: "abc123", Since: since}},
		Critical: []supervisor.ProcessInfo{{Group: "risk", Name: "rm", State: supervisor.ProcessFatal, Description: "Exited too quickly"}},
		Targets:  []supervisor.ProcessInfo{{Group: "trading", Name: "a", State: supervisor.ProcessStopped, Description: "Mar 04 05:06 AM"}},
	}
	var b bytes.Buffer
	printStatus(&b, st, since.Add(90*time.Second))
	out := b.String()
	for _, want := range []string{
		"HALTED since ", "(1m30s ago) by haltguard", "reason:  risk:rm FATAL (event)", "trigger: risk:rm FATAL",
		"trace:   abc123", "halt:    in progress", "resume:  haltguard resume --start",
		"critical  risk:rm    FATAL    Exited too quickly", "target    trading:a  STOPPED  Mar 04 05:06 AM",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
}

func TestGateRefuses(t *testing.T) {
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	t.Setenv("SUPERGUARD_CONFIG", "")
	t.Setenv("SUPERGUARD_STATE", "")

	st, err := state.Open(context.Background(), statePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SetHalt(context.Background(), state.Halt{Reason: "broker outage", Actor: "cli:alice", TraceID: "t1", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	badConfig := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("nonsense: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A strategy's environment lacks the sinks' secrets: the gate must still
	// read the latch rather than fail on the config.
	noSecrets := filepath.Join(dir, "nosecrets.yaml")
	t.Setenv("SG_TEST_UNSET_PD_KEY", "")
	if err := os.WriteFile(noSecrets, []byte("sinks:\n  - name: oncall\n    type: pagerduty\n    routing_key_env: SG_TEST_UNSET_PD_KEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "latched", args: []string{"-state", statePath, "--", "/bin/true"},
			want: "haltguard gate: trading is HALTED since"},
		{name: "latched, sink secrets not in the environment", args: []string{"-config", noSecrets, "-state", statePath, "--", "/bin/true"},
			want: "haltguard gate: trading is HALTED since"},
		{name: "unreadable config fails closed", args: []string{"-config", badConfig, "-state", statePath, "--", "/bin/true"},
			want: "cannot read the config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := cmdGate(context.Background(), tt.args, &stderr)
			if code != exitHalted || !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "refusing to start /bin/true") {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitHalted, tt.want)
			}
		})
	}
}
