package durable_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/configfile"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/state"
)

// recorder is a listener's handler that records the events and what the
// skeleton asks of it.
type recorder struct {
	mu      sync.Mutex
	env     *listener.Env
	events  []string
	drained bool
	stopped bool
}

func (r *recorder) HandleEvent(_ context.Context, ev *eventlistener.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev.EventName)
	return nil
}

func (r *recorder) Drain() { r.drained = true }
func (r *recorder) Stop()  { r.stopped = true }

type section struct {
	Name string `yaml:"name"`
}

func spec(got *recorder) listener.Spec[section] {
	return listener.Spec[section]{
		Parts: listener.Parts{Name: "testguard", File: configfile.File{}, Store: durable.Opener{Alerts: true}},
		New: func(_ context.Context, env *listener.Env, _ section) (eventlistener.Handler, error) {
			got.env = env
			return got, nil
		},
	}
}

func frame(serial int64, name, payload string) string {
	return testsupport.Envelope("testguard", serial, serial, name, payload)
}

// TestListen runs a listener with a store through the skeleton: events
// reach the handler, a TICK records the heartbeat, the pipeline's
// commands are mounted, and Drain and Stop still reach the handler through
// the heartbeat wrapper.
func TestListen(t *testing.T) {
	testsupport.ClearEnv(t)
	statePath := filepath.Join(t.TempDir(), "state.db")
	conf := filepath.Join(t.TempDir(), "superguard.yaml")
	if err := os.WriteFile(conf, []byte("host: h1\nstate_path: "+statePath+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := &recorder{}
	in := frame(1, "PROCESS_STATE_RUNNING", "processname:a groupname:g from_state:STARTING pid:1") +
		frame(2, "TICK_5", "when:1741082400")
	var stdout, stderr bytes.Buffer
	code := listener.Run(spec(got), []string{"-config", conf}, listener.IO{Stdin: strings.NewReader(in), Stdout: &stdout, Stderr: &stderr})
	if code != listener.ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if want := "READY\n" + strings.Repeat("RESULT 2\nOKREADY\n", 2); stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if strings.Join(got.events, ",") != "PROCESS_STATE_RUNNING,TICK_5" || !got.drained || !got.stopped {
		t.Errorf("events %v, drained %v, stopped %v", got.events, got.drained, got.stopped)
	}
	p := durable.Of(got.env)
	if p == nil || p.Store.Path() != statePath || p.Alerts == nil || got.env.Instance == "" {
		t.Fatalf("parts %+v, env %+v", p, got.env)
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

	stdout.Reset()
	if code := listener.Run(spec(got), []string{"incidents", "-config", conf}, listener.IO{Stdout: &stdout, Stderr: &stderr}); code != 0 {
		t.Errorf("incidents: exit %d\n%s", code, stderr.String())
	}
}

// TestStoreReopens: a store that cannot be opened at start-up is tried
// again later, and an alert submitted meanwhile is logged whole, not lost.
func TestStoreReopens(t *testing.T) {
	testsupport.ClearEnv(t)
	blocker := filepath.Join(t.TempDir(), "blocker")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The store's directory is a file for now: opening fails.
	path := filepath.Join(blocker, "state.db")
	var logs testsupport.SyncBuffer
	env, err := listener.Open(t.Context(), listener.Parts{Name: "testguard", File: configfile.File{}, Store: durable.Opener{Alerts: true}},
		listener.CommonFlags{State: path}, listener.Operating, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if !strings.Contains(logs.String(), `"message":"state store unavailable: alerts go to this log only"`) {
		t.Errorf("the failed open was not logged:\n%s", logs.String())
	}
	p := durable.Of(env)
	a := &alert.Alert{Kind: alert.Trigger, Condition: alert.CondExited, Severity: alert.Warning,
		Key: "h/g:a/exited", Host: "h", Program: "a", Group: "g", Summary: "a exited", Listener: "testguard", Time: time.Now()}
	if err := p.Alerts.Submit(t.Context(), a); err == nil {
		t.Fatal("Submit without a store succeeded")
	}
	if !strings.Contains(logs.String(), `"message":"alert not recorded"`) || !strings.Contains(logs.String(), "a exited") {
		t.Fatalf("the alert was not logged whole:\n%s", logs.String())
	}
	// The disk is mended: a try after ReopenEvery opens the store.
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	durable.RetryNow(p.Store)
	if err := p.Alerts.Submit(t.Context(), a); err != nil {
		t.Fatalf("Submit once the store opens: %v", err)
	}
	s, err := p.Store.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.ListDeliveries(t.Context(), state.Filter{})
	if err != nil || len(rows) == 0 {
		t.Fatalf("outbox %v, %v: want the alert queued", rows, err)
	}
}

// TestMissingSinkSecret: a sink whose secret is not in the environment
// does not stop the listener (halting must never depend on alerting);
// what is routed to it waits in the outbox, and -check names it.
func TestMissingSinkSecret(t *testing.T) {
	testsupport.ClearEnv(t)
	t.Setenv("DURABLE_TEST_UNSET_KEY", "")
	statePath := filepath.Join(t.TempDir(), "state.db")
	conf := filepath.Join(t.TempDir(), "superguard.yaml")
	yaml := "host: h1\nstate_path: " + statePath + "\nsinks:\n  - {name: oncall, type: pagerduty, routing_key_env: DURABLE_TEST_UNSET_KEY}\n"
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := listener.Run(spec(&recorder{}), []string{"-check", "-config", conf}, listener.IO{Stdout: &stdout, Stderr: &stderr}); code != listener.ExitUsage ||
		!strings.Contains(stderr.String(), "sinks[0].routing_key_env: variable DURABLE_TEST_UNSET_KEY is") {
		t.Errorf("-check: exit %d, stderr %s", code, stderr.String())
	}

	var logs testsupport.SyncBuffer
	env, err := listener.Open(t.Context(), listener.Parts{Name: "testguard", File: configfile.File{}, Store: durable.Opener{Alerts: true}},
		listener.CommonFlags{Config: conf}, listener.Listening, &logs)
	if err != nil {
		t.Fatalf("Open = %v: a missing sink secret must not stop a listener", err)
	}
	defer env.Close()
	if !strings.Contains(logs.String(), `"message":"alert sinks not built: their notifications wait in the outbox"`) {
		t.Errorf("not logged:\n%s", logs.String())
	}
	a := &alert.Alert{Kind: alert.Trigger, Condition: alert.CondFatal, Severity: alert.Critical,
		Key: "h1/g:a/fatal", Host: "h1", Program: "a", Group: "g", Summary: "a FATAL", Listener: "testguard", Time: time.Now()}
	if err := durable.Of(env).Alerts.Submit(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	s, err := durable.Of(env).Store.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.ListDeliveries(t.Context(), state.Filter{Sink: "oncall"})
	if err != nil || len(rows) != 1 || rows[0].Status != state.Pending {
		t.Fatalf("outbox rows for oncall %+v, %v: want one pending", rows, err)
	}
}
