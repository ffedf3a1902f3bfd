package healthprobe_test

import (
	"context"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/supervisor"
)

// risk is the critical program of the kill-switch scenarios, and the
// trading group haltguard stops.
var killSwitchPrograms = harness.Program{Name: "risk_manager", Command: "/bin/sleep 1000"}.Section() + strat +
	harness.Program{Name: "feed", Command: fake + ` -health-addr 127.0.0.1:{{.Vars.port1}} -health-file {{.Dir}}/feed.health`}.Section() + `
[group:trading]
programs=strat
`

const killSwitch = `
critical: [risk_manager]
targets: ["trading:*"]
startup_grace: 1s
`

// TestBudgetSpentPagesAndHaltsForCritical: a program that stays unhealthy
// is restarted as often as the budget allows, then no more: the spent
// budget pages critical, and since the check is critical, healthprobe asks
// haltguard to halt, which stops the trading group.
func TestBudgetSpentPagesAndHaltsForCritical(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: killSwitchPrograms, Haltguard: killSwitch, Healthprobe: `
budget: {max: 2, window: 1h, backoff: 1s, max_backoff: 2s}
checks:
  - name: api
    processes: ["trading:strat"]
    http: {url: "http://127.0.0.1:{{.Vars.port0}}/health"}
    grace: 1s
    cooldown: 1s
    failures: 1
    critical: true
`})
	e.write(t, "strat.health", "503 venue rejects orders\n")
	e.waitAction(t, "api", "trading:strat", "budget spent: 2 of 2 restarts in the window")
	if n := harness.RestartsRecorded(t, e.store, "trading:strat"); n != 2 {
		t.Errorf("restarts recorded = %d, want the budget's 2", n)
	}
	testsupport.Eventually(t, waitAction, "a critical budget incident", func() (bool, string) {
		incs := e.incidents(t)
		return hasIncident(incs, "/budget/api", alert.Critical), incidentKeys(incs)
	})
	// haltguard got the request: the latch is set and the group stopped.
	e.s.WaitListenerLog(t, "haltguard", "restart budget spent on critical trading:strat", waitAction)
	e.s.WaitProcessState(t, "trading:strat", supervisor.ProcessStopped, waitAction)
	// Once halted, the target is paused, not restarted.
	e.waitTarget(t, "api", "trading:strat", "paused", waitAction, func(s targetStatus) bool { return s.State == "paused by halt" })
}

// TestHumanRestartDoesNotSpendTheBudget: restarts made by a person
// (supervisorctl) are not counted: with a budget of one, the program can
// be restarted by hand as often as needed and healthprobe still has its
// one restart when the check fails.
func TestHumanRestartDoesNotSpendTheBudget(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: killSwitchPrograms, Healthprobe: `
budget: {max: 1, window: 1h}
checks:
  - name: api
    processes: [feed]
    http: {url: "http://127.0.0.1:{{.Vars.port1}}/health"}
    grace: 1s
    cooldown: 1s
    failures: 1
`})
	ctx := context.Background()
	for range 2 {
		e.waitTarget(t, "api", "feed:feed", "healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
		pid := e.s.ProcessPID(t, "feed")
		if err := e.s.Client.StopProcess(ctx, "feed", true); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Client.StartProcess(ctx, "feed", true); err != nil {
			t.Fatal(err)
		}
		// The new incarnation starts its counters over: it is in its grace.
		e.waitTarget(t, "api", "feed:feed", "the new pid seen", waitUp, func(s targetStatus) bool { return s.PID != pid && s.PID != 0 })
	}
	if n := harness.RestartsRecorded(t, e.store, "feed:feed"); n != 0 {
		t.Fatalf("human restarts recorded as %d", n)
	}
	e.waitTarget(t, "api", "feed:feed", "healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
	pid := e.s.ProcessPID(t, "feed")
	e.write(t, "feed.health", "500 stuck\n")
	e.s.WaitRestarted(t, "feed", pid, waitAction)
	e.waitAction(t, "api", "feed:feed", "restarted", "(1 of 1 restarts used)")
}

// TestNothingRestartsWhileHalted: while trading is halted, the halted
// targets' checks pause, and a failing program outside the targets is not
// restarted either; after the resume, it is.
func TestNothingRestartsWhileHalted(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: killSwitchPrograms, Haltguard: killSwitch, Healthprobe: `
checks:
  - name: api
    processes: [feed, "trading:*"]
    http: {url: "http://127.0.0.1:{{.Vars.port1}}/health"}
    grace: 1s
    failures: 1
`})
	e.waitTarget(t, "api", "feed:feed", "healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
	ctx := context.Background()
	if err := e.s.Client.SendRemoteCommEvent(ctx, "superguard.halt", `{"reason":"test halt","by":"test"}`); err != nil {
		t.Fatal(err)
	}
	e.s.WaitProcessState(t, "trading:strat", supervisor.ProcessStopped, waitAction)
	e.waitTarget(t, "api", "trading:strat", "strat paused... or not running", waitAction, func(s targetStatus) bool {
		return s.State == "paused by halt"
	})
	pid := e.s.ProcessPID(t, "feed")
	e.write(t, "feed.health", "500 stuck\n")
	e.waitAction(t, "api", "feed:feed", "no restart: trading is halted")
	e.waitRounds(t, 3)
	if got := e.s.ProcessPID(t, "feed"); got != pid || harness.RestartsRecorded(t, e.store, "feed:feed") != 0 {
		t.Fatalf("feed restarted while halted (pid %d -> %d)", pid, got)
	}
	if code, out := harness.RunBin(t, "./listeners/haltguard", "resume", "--by", "test", "-config", e.s.Path("superguard.yaml")); code != 0 {
		t.Fatalf("haltguard resume: exit %d\n%s", code, out)
	}
	e.s.WaitRestarted(t, "feed", pid, waitAction)
	e.waitAction(t, "api", "feed:feed", "restarted")
}

// TestFatalIsRestartedAndPolicyHaltHalts: a program supervisord gave up
// on (FATAL) counts as failing and is started again through the governor
// (httpok cannot restart from FATAL); a check with policy halt, on the
// frozen feed, asks haltguard to halt instead of restarting.
func TestFatalIsRestartedAndPolicyHaltHalts(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: killSwitchPrograms + harness.Program{Name: "flaky",
		Command: `/bin/sh -c 'if [ -f {{.Dir}}/broken ]; then exit 1; fi; exec sleep 1000'`,
		Extra:   []string{"startretries=1"}}.Section(), Haltguard: killSwitch, Healthprobe: `
checks:
  - {name: alive, processes: [flaky], command: {argv: [/bin/true]}, grace: 1s, failures: 1, cooldown: 1s}
  - name: md
    processes: [feed]
    http: {url: "http://127.0.0.1:{{.Vars.port1}}/health"}
    grace: 1s
    failures: 1
    policy: halt
`})
	// flaky dies and goes FATAL; healthprobe starts it again once it is
	// fixed (the FATAL counts as a failure of its check).
	e.write(t, "broken", "")
	if err := e.s.Client.StopProcess(t.Context(), "flaky", true); err != nil {
		t.Fatal(err)
	}
	_ = e.s.Client.StartProcess(t.Context(), "flaky", false) // fails: it exits at once
	e.s.WaitProcessState(t, "flaky", supervisor.ProcessFatal, waitAction)
	e.remove(t, "broken")
	e.s.WaitProcessState(t, "flaky", supervisor.ProcessRunning, waitAction)
	e.waitAction(t, "alive", "flaky:flaky", "restarted", "FATAL: supervisord gave up starting it")
	// The feed's check has policy halt: trading is halted, the feed is
	// not restarted.
	pid := e.s.ProcessPID(t, "feed")
	e.write(t, "feed.health", "500 no ticks\n")
	e.waitAction(t, "md", "feed:feed", "halt requested from haltguard")
	e.s.WaitProcessState(t, "trading:strat", supervisor.ProcessStopped, waitAction)
	if got := e.s.ProcessPID(t, "feed"); got != pid {
		t.Errorf("policy halt restarted the feed (pid %d -> %d)", pid, got)
	}
}
