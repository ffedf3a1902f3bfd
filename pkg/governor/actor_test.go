package governor_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/supervisor"
)

const canary = "canary-Actor-Pw-7c1e"

// actorSup is the supervisord an Actor acts on: stop, start and the halt
// request's remote event, each failing as told.
type actorSup struct {
	stopErr, startErr, remoteErr error
	calls                        []string
	remote                       []string // the data of each halt request
}

func (s *actorSup) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	return nil, nil
}

func (s *actorSup) GetProcessInfo(context.Context, string) (supervisor.ProcessInfo, error) {
	return supervisor.ProcessInfo{}, nil
}

func (s *actorSup) StopProcess(_ context.Context, name string, _ bool) error {
	s.calls = append(s.calls, "stop "+name)
	return s.stopErr
}

func (s *actorSup) StartProcess(_ context.Context, name string, _ bool) error {
	s.calls = append(s.calls, "start "+name)
	return s.startErr
}

func (s *actorSup) SendRemoteCommEvent(_ context.Context, typ, data string) error {
	s.calls = append(s.calls, "remote "+typ)
	s.remote = append(s.remote, data)
	return s.remoteErr
}

func newActor(t *testing.T, sup *actorSup) (*governor.Actor, *testsupport.SyncBuffer) {
	t.Helper()
	var log testsupport.SyncBuffer
	g := &governor.Governor{Store: openStore(t)}
	return &governor.Actor{Sup: sup, Gov: g, By: "memguard", Log: zerolog.New(&log),
		Redact: func(s string) string { return strings.ReplaceAll(s, canary, "[REDACTED]") }}, &log
}

// TestActorRestart: a restart is stopped then started and spends the
// budget; a failed one spends nothing and says why, scrubbed; a FATAL
// process (not running) is started all the same.
func TestActorRestart(t *testing.T) {
	ctx := t.Context()
	sup := &actorSup{}
	a, _ := newActor(t, sup)
	if failure, note := a.Restart(ctx, "trading:mm"); failure != "" || note != "" {
		t.Fatalf("Restart = %q, %q", failure, note)
	}
	if d := a.Gov.Ask(ctx, "trading:mm"); d.Used != 1 {
		t.Errorf("budget after a restart: %s", d)
	}
	sup.stopErr = &supervisor.Fault{Code: supervisor.FaultNotRunning, Name: "NOT_RUNNING"}
	if failure, _ := a.Restart(ctx, "trading:arb"); failure != "" {
		t.Errorf("a process not running was not started: %q", failure)
	}
	sup.stopErr = errors.New("dial unix /run/supervisor.sock: user " + canary + " refused")
	failure, _ := a.Restart(ctx, "trading:feed")
	if !strings.HasPrefix(failure, "restart failed: stop trading:feed: ") || strings.Contains(failure, canary) {
		t.Errorf("failure = %q", failure)
	}
	if d := a.Gov.Ask(ctx, "trading:feed"); d.Used != 0 {
		t.Errorf("a failed restart spent the budget: %s", d)
	}
	want := "stop trading:mm,start trading:mm,stop trading:arb,start trading:arb,stop trading:feed"
	if got := strings.Join(sup.calls, ","); got != want {
		t.Errorf("calls %s, want %s", got, want)
	}
}

// TestActorRestartNotRecorded: a restart made while the store cannot take
// it is a note, and the next Ask fails closed.
func TestActorRestartNotRecorded(t *testing.T) {
	sup := &actorSup{}
	a, log := newActor(t, sup)
	_ = a.Gov.Store.(interface{ Close() error }).Close()
	failure, note := a.Restart(t.Context(), "trading:mm")
	if failure != "" || !strings.HasPrefix(note, "restart not recorded in the budget: ") {
		t.Errorf("Restart = %q, %q", failure, note)
	}
	if !strings.Contains(log.String(), "restart not recorded") {
		t.Errorf("not logged: %s", log.String())
	}
	if d := a.Gov.Ask(t.Context(), "trading:mm"); d.Verdict != governor.Unknown {
		t.Errorf("next Ask: %s", d)
	}
}

// TestActorSpentAndHalt: a spent budget names the guard's reset command;
// for a critical process it asks haltguard to halt, with the guard's name
// and a scrubbed reason, and says whether the request got through.
func TestActorSpentAndHalt(t *testing.T) {
	ctx := t.Context()
	sup := &actorSup{}
	a, log := newActor(t, sup)
	d := governor.Decision{Verdict: governor.Spent, Used: 3, Max: 3}
	plain := a.Spent(ctx, "trading:mm", d, false, "rss 3GiB")
	if !strings.HasPrefix(plain, "not restarted: ") || !strings.HasSuffix(plain, "(memguard budget reset trading:mm)") || len(sup.remote) != 0 {
		t.Errorf("Spent = %q (halt requests %d)", plain, len(sup.remote))
	}
	critical := a.Spent(ctx, "risk:rm", d, true, "token "+canary+" leaked in evidence")
	if !strings.HasSuffix(critical, "; halt requested from haltguard") || len(sup.remote) != 1 {
		t.Fatalf("Spent(critical) = %q (halt requests %d)", critical, len(sup.remote))
	}
	var cmd halt.HaltCommand
	if err := json.Unmarshal([]byte(sup.remote[0]), &cmd); err != nil {
		t.Fatal(err)
	}
	if cmd.By != "memguard" || !strings.HasPrefix(cmd.Reason, "restart budget spent on critical risk:rm: ") ||
		strings.Contains(cmd.Reason, canary) || strings.Contains(log.String(), canary) {
		t.Errorf("halt request %+v; log %s", cmd, log.String())
	}
	sup.remoteErr = errors.New("supervisord unreachable")
	if got := a.AskHalt(ctx, "risk:rm", "x"); got != "halt requested but not delivered to supervisord: supervisord unreachable" {
		t.Errorf("undelivered: %q", got)
	}
}
