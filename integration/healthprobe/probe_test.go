package healthprobe_test

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// strat is a fake strategy serving /health on port0, its answer overridden
// by {{.Dir}}/strat.health while that file exists.
// apiCheck is the check "api" of strat's /health with the settings in
// extra (YAML lines, indented by it), as healthprobe's section.
func apiCheck(extra ...string) string {
	return "checks:\n  - name: api\n    processes: [strat]\n    http: {url: \"http://127.0.0.1:{{.Vars.port0}}/health\"}\n" +
		harness.Indent(strings.Join(extra, "\n"), "    ")
}

var strat = harness.Program{Name: "strat", Command: fake + ` -health-addr 127.0.0.1:{{.Vars.port0}} -health-file {{.Dir}}/strat.health`}.Section()

// TestUnhealthyRestartsAfterThresholdOnly: 500s are counted, the third
// consecutive one restarts the program (not the first two), the alert says
// why, and passing again resolves it.
func TestUnhealthyRestartsAfterThresholdOnly(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: strat, Healthprobe: apiCheck("grace: 1s", "cooldown: 1s", "successes: 1")})
	e.waitTarget(t, "api", "strat:strat", "healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
	pid := e.s.ProcessPID(t, "strat")
	e.write(t, "strat.health", "500 order gateway disconnected\n")
	// Two failures are seen and nothing happens to the program.
	// (The log line comes as the second failure is counted: the third
	// probe is a period away.)
	e.s.WaitListenerLog(t, "healthprobe", `"failures":2,"threshold":3`, waitAction)
	if got := e.s.ProcessPID(t, "strat"); got != pid || harness.RestartsRecorded(t, e.store, "strat:strat") != 0 {
		t.Fatalf("restarted after two failures (pid %d -> %d)", pid, got)
	}
	newPID := e.s.WaitRestarted(t, "strat", pid, waitAction)
	e.remove(t, "strat.health")
	e.waitAction(t, "api", "strat:strat", "restarted", "3 consecutive failures: HTTP 500 (want 2xx)", "(1 of 3 restarts used)")
	if n := harness.RestartsRecorded(t, e.store, "strat:strat"); n != 1 {
		t.Errorf("restarts recorded = %d, want 1", n)
	}
	// The new incarnation passes: the incident resolves.
	e.waitTarget(t, "api", "strat:strat", "recovered", waitAction, func(s targetStatus) bool { return !s.Alerting && s.State == "healthy" })
	testsupport.Eventually(t, waitAction, "incident resolved", func() (bool, string) {
		incs := e.incidents(t)
		return len(incs) == 0, incidentKeys(incs)
	})
	if got := e.s.ProcessPID(t, "strat"); got != newPID {
		t.Errorf("restarted again after recovering (pid %d -> %d)", newPID, got)
	}
}

// TestHungEndpointTimesOutAndRestarts: a strategy that stops answering
// (SIGUSR2 hangs the fake) times out within the check's timeout and is
// restarted.
func TestHungEndpointTimesOutAndRestarts(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: strat, Healthprobe: apiCheck("timeout: 1s", "grace: 1s", "failures: 2")})
	e.waitTarget(t, "api", "strat:strat", "healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
	pid := e.s.Signal(t, "strat", syscall.SIGUSR2)
	e.s.WaitRestarted(t, "strat", pid, waitAction)
	e.waitAction(t, "api", "strat:strat", "restarted", "no answer within 1s")
}

// TestStaleDataRestarts: a feed whose data timestamp stops advancing (JSON
// body) and one whose tick file stops being touched are both restarted,
// with the age in the evidence.
func TestStaleDataRestarts(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: harness.Program{Name: "md",
		Command: fake + ` -health-addr 127.0.0.1:{{.Vars.port0}} -health-body '{"feed":{"last_tick":"%%NOW%%"}}' -freeze-after 6s`}.Section() +
		harness.Program{Name: "ticker",
			Command: `/bin/sh -c 'while [ ! -f {{.Dir}}/freeze ]; do touch {{.Dir}}/ticker.tick; sleep 0.5; done; exec sleep 1000'`}.Section(),
		Healthprobe: `
checks:
  - name: md-feed
    processes: [md]
    http:
      url: "http://127.0.0.1:{{.Vars.port0}}/health"
      timestamp: {field: feed.last_tick, format: rfc3339, max_age: 3s}
    grace: 1s
    failures: 2
  - name: tick-file
    processes: [ticker]
    file: {path: "{{.Dir}}/%(process_name)s.tick", max_age: 3s}
    grace: 1s
    failures: 2
`})
	mdPID := e.s.ProcessPID(t, "md")
	e.waitTarget(t, "md-feed", "md:md", "healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
	tickerPID := e.s.ProcessPID(t, "ticker")
	e.waitTarget(t, "tick-file", "ticker:ticker", "healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
	e.write(t, "freeze", "")
	e.s.WaitRestarted(t, "md", mdPID, waitAction)
	e.s.WaitRestarted(t, "ticker", tickerPID, waitAction)
	e.waitAction(t, "md-feed", "md:md", "restarted", "feed.last_tick", "the data is stale")
	e.waitAction(t, "tick-file", "ticker:ticker", "restarted", "ticker.tick last modified")
}

// TestFlappingCheckIsCaught: a check that passes and fails in turn never
// has three consecutive failures, but "3 failures within 6 probes" catches
// it.
func TestFlappingCheckIsCaught(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: harness.Program{Name: "flappy", Command: "/bin/sleep 1000"}.Section(), Healthprobe: `
checks:
  - name: flap
    processes: [flappy]
    command: {argv: [/bin/sh, -c, 'n=$(cat {{.Dir}}/n 2>/dev/null || echo 0); echo $((n+1)) > {{.Dir}}/n; [ $((n % 2)) -eq 0 ]']}
    grace: 1s
    failures: 3
    within: 6
`})
	pid := e.s.ProcessPID(t, "flappy")
	e.s.WaitRestarted(t, "flappy", pid, waitAction)
	e.waitAction(t, "flap", "flappy:flappy", "restarted", "3 of the last 6 probes failed", "exit status 1")
}

// TestHealthyProgramIsNeverTouched: over many rounds a passing program
// keeps its pid, and nothing is alerted or recorded.
func TestHealthyProgramIsNeverTouched(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: strat, Healthprobe: `
checks:
  - name: api
    processes: [strat]
    http: {url: "http://127.0.0.1:{{.Vars.port0}}/health", body_contains: ok}
    grace: 1s
    failures: 1
`})
	e.waitTarget(t, "api", "strat:strat", "healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
	pid := e.s.ProcessPID(t, "strat")
	e.waitRounds(t, 6)
	if got := e.s.ProcessPID(t, "strat"); got != pid {
		t.Errorf("pid %d -> %d: a healthy program was restarted", pid, got)
	}
	if incs := e.incidents(t); len(incs) != 0 || harness.RestartsRecorded(t, e.store, "strat:strat") != 0 {
		t.Errorf("incidents %s, restarts %d: want none", incidentKeys(incs), harness.RestartsRecorded(t, e.store, "strat:strat"))
	}
	if st := e.target(t, "api", "strat:strat"); st.State != "healthy" || st.Failures != 0 {
		t.Errorf("status %+v", st)
	}
	_ = supervisor.ProcessRunning
}

// TestCheckAgainstSupervisord: -check compares every check's processes
// with supervisord's: a program that does not exist is named, with the
// field.
func TestCheckAgainstSupervisord(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: strat, Healthprobe: `
checks:
  - {name: api, processes: [strat], http: {url: "http://127.0.0.1:{{.Vars.port0}}/health"}}
`})
	good := e.s.Path("superguard.yaml")
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := e.write(t, "bad.yaml", strings.Replace(string(b), "processes: [strat]", "processes: [strat, stratt]", 1))
	run := func(config string) (int, string) {
		return harness.RunBin(t, "./listeners/healthprobe", "-check", "-config", config)
	}
	if code, out := run(good); code != 0 || !strings.Contains(out, "OK (checked against supervisord") {
		t.Errorf("good config: exit %d\n%s", code, out)
	}
	if code, out := run(bad); code != 2 || !strings.Contains(out, `listeners.healthprobe.checks[0].processes: "stratt" matches no program or group in supervisord`) {
		t.Errorf("unknown program: exit %d\n%s", code, out)
	}
}

// TestGraceHoldsAfterRestart: counters and the start-up grace start over
// with every new incarnation (monit #64: a starting app killed again at
// once): a program still unhealthy after its restart is left alone through
// its new grace.
func TestGraceHoldsAfterRestart(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: strat, Healthprobe: "budget: {backoff: 1s, max_backoff: 1s}\n" +
		apiCheck("grace: 30s", "failures: 1", "cooldown: 0s")})
	pid := e.s.ProcessPID(t, "strat")
	e.write(t, "strat.health", "500 still warming up\n")
	// The first incarnation fails once its grace is over and is restarted.
	e.s.WaitRestarted(t, "strat", pid, waitAction)
	e.waitAction(t, "api", "strat:strat", "restarted")
	pid2 := e.s.ProcessPID(t, "strat")
	e.waitTarget(t, "api", "strat:strat", "the new incarnation starting", waitUp, func(s targetStatus) bool {
		return s.PID == pid2 && s.State == "starting" && s.Failures == 0
	})
	// Still failing, but in its own new grace: left alone.
	e.waitRounds(t, 3)
	if got := e.s.ProcessPID(t, "strat"); got != pid2 {
		t.Fatalf("restarted again within the grace (pid %d -> %d)", pid2, got)
	}
}
