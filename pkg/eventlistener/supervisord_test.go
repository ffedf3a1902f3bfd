package eventlistener_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/supervisor"
	"github.com/superguard/superguard/pkg/supervisor/supervisortest"
)

// live is a real supervisord running this test binary as the eventlistener
// "listener" (role "listener", see runTestListener).
type live struct {
	srv     *supervisortest.Server
	c       *supervisor.Client
	out     string // the listener's records
	release string // touch to release a "block" event
}

// startLive starts supervisord with the listener (extra listener settings in
// listenerConf) and the programs in programs. The listener's stderr is
// printed when the test fails.
func startLive(t *testing.T, listenerConf, programs string) *live {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real supervisord")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, body := range captureScripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l := &live{out: filepath.Join(dir, "records.jsonl"), release: filepath.Join(dir, "release")}
	stderr := filepath.Join(dir, "listener.err")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(stderr)
			t.Logf("listener stderr:\n%s", b)
		}
	})
	l.srv = supervisortest.Start(t, fmt.Sprintf(`
[eventlistener:listener]
command=%s
environment=%s="listener",%s="%s",%s="%s",%s="%s"
stdout_logfile=NONE
stderr_logfile=%s
startsecs=0
autorestart=true
%s
%s
`, exe, envRole, envOut, l.out, envState, filepath.Join(dir, "state.json"), envRelease, l.release,
		stderr, listenerConf, strings.ReplaceAll(programs, "%(dir)s", dir)))
	l.c = l.srv.Client(t)
	l.srv.WaitProcessState(t, "listener:listener", supervisor.ProcessRunning)
	return l
}

func (l *live) records(t *testing.T) []listenerRecord {
	t.Helper()
	return testsupport.ReadJSONLines[listenerRecord](t, l.out)
}

// waitRecord polls the records until match finds one, and returns it.
func (l *live) waitRecord(t *testing.T, what string, match func(listenerRecord) bool) listenerRecord {
	t.Helper()
	var found listenerRecord
	testsupport.WaitFor(t, 30*time.Second, what, func() bool {
		for _, r := range l.records(t) {
			if match(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

func (l *live) send(t *testing.T, typ, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.c.SendRemoteCommEvent(ctx, typ, data); err != nil {
		t.Fatal(err)
	}
}

func (l *live) listenerPID(t *testing.T) int {
	t.Helper()
	info, err := l.c.GetProcessInfo(context.Background(), "listener:listener")
	if err != nil {
		t.Fatal(err)
	}
	return info.PID
}

func remote(typ string) func(listenerRecord) bool {
	return func(r listenerRecord) bool {
		return r.Event != nil && r.Event.Remote != nil && r.Event.Remote.Type == typ
	}
}

// Multi-byte output and output that is not UTF-8 must not desynchronise the
// listener: it keeps getting events after them, and never restarts.
func TestLiveUnicodeStaysInSync(t *testing.T) {
	l := startLive(t, "events=PROCESS_LOG,REMOTE_COMMUNICATION", `
[program:utf8]
command=/bin/sh %(dir)s/utf8.sh
stdout_events_enabled=true
stderr_events_enabled=true

[program:badutf8]
command=/bin/sh %(dir)s/badutf8.sh
stdout_events_enabled=true
`)
	pid := l.listenerPID(t)
	tests := []struct {
		name, channel, data string
	}{
		{"multi-byte stdout", "stdout", "na\u00efve caf\u00e9 \u2014 \u2713 \u65e5\u672c\u8a9e \U0001F600\n"},
		{"multi-byte stderr", "stderr", "stderr: \u2713\n"},
		{"not UTF-8", "stdout", `Undecodable: b'\xff\xfe ok \xc3(\n'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l.waitRecord(t, tt.name, func(r listenerRecord) bool {
				return r.Event != nil && r.Event.Log != nil && r.Event.Log.Channel == tt.channel && r.Event.Log.Data == tt.data
			})
		})
	}
	l.send(t, "after", "\u2713 still in sync")
	r := l.waitRecord(t, "an event after the non-ASCII ones", remote("after"))
	if r.Event.Remote.Data != "\u2713 still in sync" {
		t.Errorf("data %q", r.Event.Remote.Data)
	}
	if got := l.listenerPID(t); got != pid {
		t.Errorf("listener restarted (pid %d -> %d): it lost sync", pid, got)
	}
}

// FAIL makes supervisord re-send at once: attempts 1..MaxAttempts are
// answered FAIL, the next one OK. A listener that dies in the handler gets
// the event again after its restart, and knows it from its state file.
func TestLiveFailAndRedelivery(t *testing.T) {
	l := startLive(t, "events=REMOTE_COMMUNICATION", "")
	pid := l.listenerPID(t)

	l.send(t, "fail", "poison")
	l.send(t, "ok", "after poison")
	l.waitRecord(t, "the event after the poison one", remote("ok"))
	var attempts []int
	for _, r := range l.records(t) {
		if remote("fail")(r) {
			attempts = append(attempts, r.Event.Attempt)
		}
	}
	if fmt.Sprint(attempts) != fmt.Sprint([]int{1, 2, 3, 4}) {
		t.Errorf("poison event attempts %v, want [1 2 3 4] (3 FAILs, then acknowledged)", attempts)
	}
	if got := l.listenerPID(t); got != pid {
		t.Fatalf("listener restarted (pid %d -> %d) during FAILs", pid, got)
	}

	l.send(t, "crash", "kills the listener once")
	r := l.waitRecord(t, "the crash event re-sent after the restart", func(r listenerRecord) bool {
		return remote("crash")(r) && r.Event.Attempt == 2
	})
	if !r.Event.Redelivered {
		t.Errorf("re-sent event not marked Redelivered: %+v", r.Event)
	}
	if got := l.listenerPID(t); got == pid {
		t.Errorf("listener pid %d unchanged: it did not die", got)
	}
	first := l.waitRecord(t, "the crash event's first delivery", remote("crash"))
	if first.Event.Serial != r.Event.Serial || first.Event.PoolSerial != r.Event.PoolSerial {
		t.Errorf("re-sent event serial %d/%d, first delivery %d/%d", r.Event.Serial, r.Event.PoolSerial, first.Event.Serial, first.Event.PoolSerial)
	}
}

// A listener kept busy while events pile up makes supervisord drop the
// oldest ones; the next event shows a poolserial gap, and Run reconciles from
// getAllProcessInfo before handing it over.
func TestLiveGapReconcile(t *testing.T) {
	l := startLive(t, "events=REMOTE_COMMUNICATION\nbuffer_size=3", `
[program:sleeper]
command=sleep 1000
`)
	l.srv.WaitProcessState(t, "sleeper:sleeper", supervisor.ProcessRunning)
	l.send(t, "block", "hold the listener")
	l.waitRecord(t, "the blocking event", remote("block"))
	for i := range 10 {
		l.send(t, "burst", fmt.Sprint(i))
	}
	if err := os.WriteFile(l.release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rec := l.waitRecord(t, "a gap reconciliation", func(r listenerRecord) bool { return r.Reconcile != nil })
	if rec.Reconcile.Reason != eventlistener.ReasonGap || rec.Reconcile.Pool != "listener" || rec.Reconcile.Missed <= 0 {
		t.Errorf("reconciliation %+v", rec.Reconcile)
	}
	names := map[string]supervisor.ProcessState{}
	for _, p := range rec.Reconcile.Processes {
		names[p.FullName()] = p.State
	}
	if names["sleeper:sleeper"] != supervisor.ProcessRunning || names["listener:listener"] != supervisor.ProcessRunning {
		t.Errorf("reconciliation processes %v", names)
	}
	// The reconciliation comes just before the event that revealed the gap
	// (recorded once handled: wait for it before reading them all).
	l.waitRecord(t, "the gap event", func(r listenerRecord) bool { return r.Event != nil && r.Event.Missed == rec.Reconcile.Missed })
	recs := l.records(t)
	for i, r := range recs {
		if r.Reconcile == nil {
			continue
		}
		if i+1 >= len(recs) || recs[i+1].Event == nil || recs[i+1].Event.Missed != r.Reconcile.Missed {
			t.Errorf("record after the reconciliation is not the gap event: %+v", recs[i+1:])
		}
		break
	}
	if !strings.Contains(l.srv.Log(), "event buffer overflowed") {
		t.Errorf("supervisord did not log an overflow:\n%s", l.srv.Log())
	}
}
