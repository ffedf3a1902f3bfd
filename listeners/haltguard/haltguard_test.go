package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
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

func (g *fakeGuard) Wait()        {}
func (g *fakeGuard) WaitWatches() {}

func TestHandlerRoutesEvents(t *testing.T) {
	g := &fakeGuard{}
	var logs bytes.Buffer
	h := &handler{guard: g, log: zerolog.New(&logs)}
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
	if g.ticks != 2 {
		t.Errorf("ticks %d", g.ticks)
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
	// Never the host's /etc/superguard: an empty config of the test's own.
	emptyConfig := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(emptyConfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SUPERGUARD_CONFIG", emptyConfig)
	t.Setenv("SUPERGUARD_STATE", "")

	latch := &halt.FileLatch{Paths: []string{filepath.Join(dir, "halt.latch")}}
	if err := latch.Prepare(); err != nil {
		t.Fatal(err)
	}
	if err := latch.Set(context.Background(), halt.Record{Reason: "broker outage", By: "cli:alice", TraceID: "t1", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	badConfig := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("nonsense: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.latch")
	if err := os.WriteFile(corrupt, []byte("superguard-halt-latch 1\n{\"latched\":false}\n00000000\n"), 0o644); err != nil {
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
		{name: "latched, by -latch", args: []string{"-latch", latch.Paths[0], "--", "/bin/true"},
			want: "haltguard gate: trading is HALTED since"},
		{name: "latched, sink secrets not in the environment", args: []string{"-config", noSecrets, "-state", statePath, "--", "/bin/true"},
			want: "haltguard gate: trading is HALTED since"},
		{name: "unreadable config fails closed", args: []string{"-config", badConfig, "-state", statePath, "--", "/bin/true"},
			want: "cannot find the halt latch (config " + badConfig},
		{name: "missing config fails closed", args: []string{"-config", filepath.Join(dir, "none.yaml"), "--", "/bin/true"},
			want: "no such file"},
		{name: "missing latch file fails closed", args: []string{"-latch", filepath.Join(dir, "none.latch"), "--", "/bin/true"},
			want: "cannot read the halt latch"},
		{name: "corrupt latch file fails closed", args: []string{"-latch", corrupt, "--", "/bin/true"},
			want: "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := gateCmd.Run(context.Background(), tt.args, listener.IO{Stdout: io.Discard, Stderr: &stderr})
			if code != listener.ExitHalted || !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "refusing to start /bin/true") {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), listener.ExitHalted, tt.want)
			}
		})
	}
	if _, err := os.Stat(statePath); err == nil {
		t.Error("the gate created a state store")
	}
}
