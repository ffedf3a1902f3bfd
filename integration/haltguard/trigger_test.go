package haltguard

import (
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestExitedTriggerHaltsBeforeFatal: with trigger_on_exited the first
// unexpected exit halts, without waiting for supervisord's retries (here
// risk_manager even comes back RUNNING), under the halt's own key.
func TestExitedTriggerHaltsBeforeFatal(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{haltguard: "trigger_on_exited: true"})
	sc.Signal(t, riskName, syscall.SIGKILL) // a crash; supervisord restarts it

	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	l := sc.latch(t)
	if !l.Latched || l.Process != riskName || l.ProcessState != "EXITED" {
		t.Fatalf("latch = %+v, want set for %s EXITED", l, riskName)
	}
	halt := sc.waitAudit(t, "halt", nil, waitHalt)
	if halt["source"] != "event" || halt["trigger_state"] != "EXITED" {
		t.Errorf("halt audit %v: want the EXITED event", halt)
	}
	ev := sc.waitPage(t, host+"/"+riskName+"/halt", "HALTED trading: "+riskName+" EXITED")
	if detail(ev, "stopped_count") != "10" {
		t.Errorf("page details %v", ev.Payload.CustomDetails)
	}
	// risk_manager itself is not a target: supervisord restarts it.
	sc.WaitProcessState(t, riskName, supervisor.ProcessRunning, waitHalt)
	for _, p := range sc.targets(t) {
		if p.State != supervisor.ProcessStopped {
			t.Errorf("%s is %s while halted", p.FullName(), p.State)
		}
	}
}

// TestTargetIgnoringSIGTERMIsKilled: a target that ignores SIGTERM with
// stopwaitsecs=60 is SIGKILLed by haltguard at its 2 s verification
// deadline (supervisord's own SIGKILL would come only after 60 s), and is
// named in the audit line and the page.
func TestTargetIgnoringSIGTERMIsKilled(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{
		targets:   3,
		haltguard: "verify_timeout: 2s",
		members:   ",stubborn",
		extra: `
[program:stubborn]
command={{bin "./integration/cmd/fakestrategy"}} -ignore-sigterm
startsecs=0
stopwaitsecs=60
priority=20
`,
	})
	sc.WaitProcessState(t, "trading:stubborn", supervisor.ProcessRunning, waitUp)
	sc.breakRisk(t)

	kill := sc.waitAudit(t, "kill", nil, waitHalt)
	if kill["process"] != "trading:stubborn" || kill["method"] != "signalProcess" {
		t.Errorf("kill audit %v: want trading:stubborn through signalProcess", kill)
	}
	sc.WaitProcessState(t, "trading:stubborn", supervisor.ProcessStopped, 10*time.Second)
	ev := sc.waitPage(t, haltKey, "SIGKILL sent to trading:stubborn")
	if got := detail(ev, "killed"); got != "trading:stubborn" {
		t.Errorf("page detail killed = %q, want trading:stubborn", got)
	}
	done := sc.waitAudit(t, "halt_done", nil, waitHalt)
	if survivors, _ := done["survivors"].([]any); len(survivors) != 0 {
		t.Errorf("survivors %v", survivors)
	}
	// supervisord saw the SIGKILL, not its own stop timeout.
	sc.WaitLog(t, `stopped: stubborn \(terminated by SIGKILL\)`, time.Second)
}

// TestTickSafetyNetCatchesUnseenFatal: a FATAL that never reaches haltguard
// (here it is not even subscribed to PROCESS_STATE: the worst case of a
// dropped event) is found by the check on the next TICK.
func TestTickSafetyNetCatchesUnseenFatal(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 3, events: "TICK_5"})
	sc.breakRisk(t)
	sc.WaitProcessState(t, riskName, supervisor.ProcessFatal, waitHalt)
	halt := sc.waitAudit(t, "halt", nil, waitHalt)
	if halt["source"] != "tick" {
		t.Errorf("halt audit %v: want it found by the tick check", halt)
	}
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	sc.waitPage(t, riskKeys, "HALTED trading")
}

// TestFatalLostToOverflowIsCaught: the FATAL is dropped from haltguard's
// full event buffer (while haltguard is down, a burst of state changes
// follows it); the restarted haltguard still halts, from its own check of
// the process states rather than from the event.
func TestFatalLostToOverflowIsCaught(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 5, bufferSize: 4, expect: []harness.Problem{harness.ProblemOverflow}})
	if err := sc.Client.StopProcess(ctxT(t), "haltguard:haltguard", true); err != nil {
		t.Fatal(err)
	}
	sc.breakRisk(t)
	sc.WaitProcessState(t, riskName, supervisor.ProcessFatal, waitHalt)
	// A burst of state changes pushes the FATAL out of the 4-event buffer.
	if _, err := sc.Client.StopProcessGroup(ctxT(t), "trading", true); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Client.StartProcessGroup(ctxT(t), "trading", true); err != nil {
		t.Fatal(err)
	}
	sc.WaitLog(t, "event buffer overflowed", waitHalt)
	if err := sc.Client.StartProcess(ctxT(t), "haltguard:haltguard", false); err != nil {
		t.Fatal(err)
	}
	halt := sc.waitAudit(t, "halt", nil, waitHalt)
	if halt["source"] == "event" {
		t.Errorf("halt audit %v: the FATAL event should have been dropped", halt)
	}
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	sc.waitPage(t, riskKeys, "HALTED trading")
}
