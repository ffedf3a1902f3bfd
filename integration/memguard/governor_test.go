package memguard_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestBudgetSharedWithHealthprobe: memguard and healthprobe restart the
// same process through one budget in the state store: one restart by
// each inside the window counts twice, and with a budget of two the next
// over-limit is refused as spent (a critical budget incident).
func TestBudgetSharedWithHealthprobe(t *testing.T) {
	t.Parallel()
	port := harness.FreePort(t)
	e := start(t, scenario{
		Vars:     map[string]string{"port": port},
		Programs: harness.Program{Name: "strat", Command: fake + ` -grow-rate 2MiB -health-addr 127.0.0.1:{{.Vars.port}} -health-file {{.Dir}}/strat.health`}.Section(),
		// memguard waits an hour between its own restarts; healthprobe
		// does not.
		Memguard: `
host: {off: true}
budget: {max: 2, window: 1h, backoff: 1h, max_backoff: 1h}
limits:
  - processes: [strat]
    max: 40MiB
    for: 2
    leak: {off: true}
`, Healthprobe: `
budget: {max: 2, window: 1h, backoff: 1s, max_backoff: 1s}
checks:
  - name: api
    processes: [strat]
    http: {url: "http://127.0.0.1:{{.Vars.port}}/health"}
    grace: 1s
    cooldown: 1s
    failures: 1
`})
	// memguard's restart: the first of the budget.
	pid := e.s.ProcessPID(t, "strat")
	pid = e.s.WaitRestarted(t, "strat", pid, waitAction)
	e.waitProc(t, "strat:strat", "memguard restarted it", waitAction, func(p procStatus) bool {
		return strings.Contains(p.LastAction, "restarted") && strings.Contains(p.LastAction, "1 of 2 restarts used")
	})
	// healthprobe's restart: the second.
	health := e.s.Path("strat.health")
	if err := os.WriteFile(health, []byte("503 venue down\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pid = e.s.WaitRestarted(t, "strat", pid, waitAction)
	if err := os.Remove(health); err != nil {
		t.Fatal(err)
	}
	e.s.WaitListenerLog(t, "healthprobe", "2 of 2 restarts used", waitAction)
	// The new incarnation grows past the limit again: memguard finds the
	// budget spent by the two of them.
	e.waitProc(t, "strat:strat", "budget spent", waitAction, func(p procStatus) bool {
		return strings.Contains(p.LastAction, "2 of 2 restarts in the window")
	})
	e.waitIncident(t, host+"/strat:strat/budget critical")
	if n := harness.RestartsRecorded(t, e.store, "strat:strat"); n != 2 {
		t.Errorf("restarts recorded %d, want 2 (one by each)", n)
	}
	if e.s.ProcessPID(t, "strat") != pid {
		t.Error("restarted past the spent budget")
	}
	code, out := harness.RunBin(t, "./listeners/memguard", "budget", "-config", e.s.Path("superguard.yaml"))
	if code != 0 || !strings.Contains(out, "strat:strat") || !strings.Contains(lineWith(out, "strat:strat"), " 2 ") {
		t.Errorf("memguard budget: exit %d\n%s", code, out)
	}
}

// TestNothingRestartedWhileHalted: with trading halted, a process over its
// limit (outside the halted group, so still running) is not restarted:
// memguard pauses and says why; after the resume it is restarted.
func TestNothingRestartedWhileHalted(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{
		Programs: harness.Program{Name: "risk_manager", Command: "/bin/sleep 1000"}.Section() + program("strat", "") +
			program("cache", "-grow-rate 4MiB -grow-limit 80MiB") + "\n[group:trading]\nprograms=strat\n",
		Haltguard: "critical: [risk_manager]\ntargets: [\"trading:*\"]\nstartup_grace: 1s\n",
		Memguard: `
host: {off: true}
limits:
  - processes: [cache]
    max: 40MiB
    for: 2
    leak: {off: true}
`})
	ctx := context.Background()
	if err := e.s.Client.SendRemoteCommEvent(ctx, "superguard.halt", `{"reason":"test halt","by":"test"}`); err != nil {
		t.Fatal(err)
	}
	e.s.WaitProcessState(t, "trading:strat", supervisor.ProcessStopped, waitAction)
	pid := e.s.ProcessPID(t, "cache")
	e.waitProc(t, "cache:cache", "paused", waitAction, func(p procStatus) bool {
		return p.State == "paused" && strings.Contains(p.LastAction, "halted")
	})
	e.waitRounds(t, 3)
	if e.s.ProcessPID(t, "cache") != pid || harness.RestartsRecorded(t, e.store, "cache:cache") != 0 {
		t.Fatal("restarted while halted")
	}
	if !e.status(t).Halted {
		t.Error("status does not say halted")
	}
	if code, out := harness.RunBin(t, "./listeners/haltguard", "resume", "--by", "test", "-config", e.s.Path("superguard.yaml")); code != 0 {
		t.Fatalf("haltguard resume: exit %d\n%s", code, out)
	}
	e.s.WaitRestarted(t, "cache", pid, waitAction)
}

// TestPolicyAlertAndCriticalHalt: policy alert raises an error-level
// incident and never restarts; a critical limit whose budget is spent asks
// haltguard to halt, which stops the trading group.
func TestPolicyAlertAndCriticalHalt(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{
		Programs: harness.Program{Name: "risk_manager", Command: "/bin/sleep 1000"}.Section() +
			program("book", "-grow-rate 4MiB -grow-limit 80MiB") + program("mm", "-grow-rate 4MiB -grow-limit 80MiB") +
			"\n[group:trading]\nprograms=mm\n",
		Haltguard: "critical: [risk_manager]\ntargets: [\"trading:*\"]\nstartup_grace: 1s\n",
		Memguard: `
host: {off: true}
budget: {max: 1, window: 1h, backoff: 1s, max_backoff: 1s}
limits:
  - processes: [book]
    max: 40MiB
    for: 2
    policy: alert
    leak: {off: true}
  - processes: ["trading:mm"]
    max: 40MiB
    for: 2
    critical: true
    leak: {off: true}
`})
	book := e.s.ProcessPID(t, "book")
	e.waitProc(t, "book:book", "alerted", waitAction, func(p procStatus) bool { return p.State == "alerted" })
	e.waitIncident(t, host+"/book:book/memory error")
	// mm: restarted once (the budget), then spent: halt.
	e.s.WaitListenerLog(t, "haltguard", "restart budget spent on critical trading:mm", waitAction)
	e.s.WaitProcessState(t, "trading:mm", supervisor.ProcessStopped, waitAction)
	e.waitIncident(t, host+"/trading:mm/budget critical")
	if e.s.ProcessPID(t, "book") != book {
		t.Error("policy alert restarted book")
	}
}
