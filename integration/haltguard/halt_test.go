package haltguard

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestFatalHaltsAndLatchHolds: risk_manager going FATAL stops the whole
// trading group, pages once under the FATAL's key with what failed and what
// was done, and the latch survives a restart of haltguard.
func TestFatalHaltsAndLatchHolds(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{})
	sc.breakRisk(t)

	sc.WaitProcessState(t, riskName, supervisor.ProcessFatal, waitHalt)
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)

	l := sc.latch(t)
	if !l.Latched || l.Process != riskName || l.ProcessState != "EXITED" || l.Actor != "haltguard" {
		t.Fatalf("latch = %+v, want set by haltguard for %s EXITED", l, riskName)
	}
	ev := sc.waitPage(t, haltKey, "HALTED trading")
	if ev.Payload.Severity != "critical" {
		t.Errorf("page severity %q", ev.Payload.Severity)
	}
	for name, want := range map[string]string{
		"trigger":       riskName,
		"trigger_state": "EXITED",
		"stopped_count": "10",
		"latch":         "recorded",
		"trace_id":      l.TraceID,
	} {
		if got := detail(ev, name); got != want {
			t.Errorf("page detail %s = %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(detail(ev, "log_tail"), "risk limits unavailable") {
		t.Errorf("page lacks the tail of risk_manager's stderr: %v", ev.Payload.CustomDetails)
	}
	if !strings.Contains(detail(ev, "resume"), "haltguard resume") {
		t.Errorf("page does not say how to resume: %v", ev.Payload.CustomDetails)
	}
	stops := sc.audits("stop")
	if len(stops) != 10 {
		t.Errorf("%d stop audit lines, want 10", len(stops))
	}
	for _, a := range stops {
		if a["trace_id"] != l.TraceID {
			t.Errorf("audit line %v does not carry the latch's trace id %s", a, l.TraceID)
		}
	}
	sc.waitAudit(t, "halt_done", nil, waitHalt)
	if l := sc.latch(t); l.Completed.IsZero() {
		t.Error("halt not marked complete")
	}

	// The latch holds across a restart of haltguard: a restarted haltguard
	// neither releases nor repeats the halt.
	pid := sc.Signal(t, "haltguard:haltguard", syscall.SIGKILL)
	waitRestart(t, sc, pid)
	if l := sc.latch(t); !l.Latched {
		t.Fatal("latch released by a haltguard restart")
	}
	if n := len(sc.audits("halt")); n != 1 {
		t.Errorf("%d halts after the restart, want 1", n)
	}
	for _, p := range sc.targets(t) {
		if p.State != supervisor.ProcessStopped {
			t.Errorf("%s is %s while halted", p.FullName(), p.State)
		}
	}
	if n := sc.pd.Triggers(haltKey); n > 3 {
		t.Errorf("%d triggers for %s: want one incident (the halt page and at most its updates)", n, haltKey)
	}
}

// waitRestart waits until supervisord restarted haltguard (a new pid) and
// the new one finished its start-up check.
func waitRestart(t *testing.T, sc *scenario, oldPID int) {
	t.Helper()
	testsupport.Eventually(t, waitUp, "haltguard restarted with a new pid", func() (bool, string) {
		info, err := sc.Client.GetProcessInfo(ctxT(t), "haltguard:haltguard")
		return err == nil && info.State == supervisor.ProcessRunning && info.PID != oldPID, fmt.Sprintf("%+v %v", info, err)
	})
	sc.WaitListenerLogCount(t, "haltguard", `"message":"reconciled"`, 2, waitUp)
}
