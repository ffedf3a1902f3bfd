package haltguard

import (
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestKilledMidHaltFinishesAfterRestart: haltguard SIGKILLed right after it
// recorded the latch and before any stop (the test pause point) finishes
// the halt once supervisord restarts it.
func TestKilledMidHaltFinishesAfterRestart(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{
		targets:     5,
		listenerEnv: `SUPERGUARD_TEST_PAUSE="haltguard-after-latch",SUPERGUARD_TEST_PAUSE_FILE="{{.Dir}}/paused"`,
	})
	sc.breakRisk(t)
	testsupport.Eventually(t, waitHalt, "haltguard paused after the latch", func() (bool, string) {
		_, err := os.Stat(sc.Path("paused"))
		return err == nil, tail(sc.ReadListenerStderr("haltguard"), 2000)
	})
	l := sc.latch(t)
	if !l.Latched || l.Process != riskName || !l.Completed.IsZero() {
		t.Fatalf("latch at the pause point = %+v: want recorded and not complete", l)
	}
	for _, p := range sc.targets(t) {
		if p.State != supervisor.ProcessRunning {
			t.Fatalf("%s is %s: stopped before the pause point", p.FullName(), p.State)
		}
	}

	pid := sc.Signal(t, "haltguard:haltguard", syscall.SIGKILL)
	waitRestart(t, sc, pid)
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	finish := sc.waitAudit(t, "halt_resume_after_restart", nil, waitHalt)
	if finish["trace_id"] != l.TraceID {
		t.Errorf("finish audit %v: want the latch's trace id %s", finish, l.TraceID)
	}
	sc.waitAudit(t, "halt_done", nil, waitHalt)
	if l := sc.latch(t); l.Completed.IsZero() {
		t.Error("halt not marked complete after the restart")
	}
	ev := sc.waitPage(t, haltKey, "HALTED trading")
	if detail(ev, "trace_id") != l.TraceID {
		t.Errorf("page trace %q, want %s", detail(ev, "trace_id"), l.TraceID)
	}
}

// TestUnreachableSupervisordRetriesAndPages: haltguard pointed at a socket
// nobody serves keeps retrying the halt with backoff and pages that it
// could not carry it out; once the socket answers, the halt completes.
func TestUnreachableSupervisordRetriesAndPages(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{
		targets:     3,
		listenerEnv: `SUPERVISOR_SERVER_URL="unix://{{.Dir}}/proxy.sock"`,
		notReady:    true,
	})
	sc.breakRisk(t)
	sc.WaitProcessState(t, riskName, supervisor.ProcessFatal, waitHalt)

	sc.waitPage(t, haltKey, "HALT NOT CARRIED OUT: "+riskName+" EXITED: supervisord unreachable, retrying")
	testsupport.Eventually(t, waitHalt, "several halt retries", func() (bool, string) {
		n := len(sc.audits("halt_retry"))
		return n >= 3, tail(sc.ReadListenerStderr("haltguard"), 2000)
	})
	for _, p := range sc.targets(t) {
		if p.State != supervisor.ProcessRunning {
			t.Fatalf("%s is %s without supervisord being reachable", p.FullName(), p.State)
		}
	}

	proxyUnix(t, sc.Path("proxy.sock"), sc.Socket)
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	sc.waitPage(t, haltKey, "HALTED trading")
	done := sc.waitAudit(t, "halt_done", nil, waitHalt)
	if survivors, _ := done["survivors"].([]any); len(survivors) != 0 {
		t.Errorf("halt_done %v", done)
	}
}

// proxyUnix serves a unix socket at path that forwards every connection to
// the socket at target, until the test ends.
func proxyUnix(t *testing.T, path, target string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close() // idle keep-alive connections would never end on their own
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("unix", target)
			if err != nil {
				c.Close()
				continue
			}
			track(c)
			track(up)
			wg.Go(func() {
				_, _ = io.Copy(up, c)
				up.Close()
			})
			wg.Go(func() {
				_, _ = io.Copy(c, up)
				c.Close()
			})
		}
	})
}

// TestFlattenReported: the flatten command runs after the stops with the
// halt's reason in its environment, and its outcome — success, failure or
// a hang killed at its timeout — is in the audit line and the page.
func TestFlattenReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		command     string
		wantSummary string
		wantDetails map[string]string // substrings
	}{
		{name: "success", command: `[sh, -c, 'echo "flattened: $SUPERGUARD_HALT_REASON"']`,
			wantSummary: "HALTED trading: manual halt",
			wantDetails: map[string]string{"flatten_exit_code": "0", "flatten_output": "flattened: flatten test"}},
		{name: "failure", command: `[sh, -c, 'echo "broker rejected the close-out" >&2; exit 4']`,
			wantSummary: "FLATTEN FAILED",
			wantDetails: map[string]string{"flatten_exit_code": "4", "flatten_error": "exit status 4", "flatten_output": "broker rejected"}},
		{name: "hang", command: `[sh, -c, 'echo connecting; sleep 300']`,
			wantSummary: "FLATTEN FAILED",
			wantDetails: map[string]string{"flatten_error": "timed out after 1s and was killed", "flatten_output": "connecting"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc := start(t, stack{targets: 2, haltguard: "flatten: {command: " + tt.command + ", timeout: 1s}"})
			if err := sc.Client.SendRemoteCommEvent(ctxT(t), "superguard.halt", `{"reason":"flatten test","by":"tester"}`); err != nil {
				t.Fatal(err)
			}
			ev := sc.waitPage(t, manualKey, tt.wantSummary)
			for k, want := range tt.wantDetails {
				if got := detail(ev, k); !strings.Contains(got, want) {
					t.Errorf("page detail %s = %q, want it to contain %q", k, got, want)
				}
			}
			a := sc.waitAudit(t, "flatten", nil, waitHalt)
			if tt.name != "success" && a["level"] != "error" {
				t.Errorf("flatten audit %v: want an error line", a)
			}
			sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
		})
	}
}
