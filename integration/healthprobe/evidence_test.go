package healthprobe_test

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
)

// TestEvidenceInAlerts: a refused connection, a name that does not
// resolve, TLS spoken to a plain server and a body that is not JSON each
// give their evidence in plain words in the alert; a restart runs the
// diagnostics (output attached) and the pre- and post-restart hooks, and
// `healthprobe status` explains what fired and why.
func TestEvidenceInAlerts(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: strat + harness.Program{Name: "gw", Command: "/bin/sleep 1000"}.Section(), Healthprobe: `
checks:
  - {name: refused, processes: [gw], http: {url: "http://127.0.0.1:{{.Vars.port2}}/health"}, policy: alert, grace: 1s, failures: 1}
  - {name: dns, processes: [gw], http: {url: "http://gw.invalid/health"}, policy: alert, grace: 1s, failures: 1}
  - {name: tls, processes: [strat], http: {url: "https://127.0.0.1:{{.Vars.port0}}/health"}, policy: alert, grace: 1s, failures: 1}
  - {name: json, processes: [strat], http: {url: "http://127.0.0.1:{{.Vars.port0}}/health", assert: ['status == "healthy"']}, policy: alert, grace: 1s, failures: 1}
  - name: api
    processes: [strat]
    http: {url: "http://127.0.0.1:{{.Vars.port0}}/health"}
    grace: 1s
    failures: 2
    diagnostics: {argv: [/bin/sh, -c, 'echo "stack dump of %(process_name)s pid %(pid)d"']}
    pre_restart: {argv: [/bin/sh, -c, 'echo pre > {{.Dir}}/pre.%(process_name)s']}
    post_restart: {argv: [/bin/sh, -c, 'echo post > {{.Dir}}/post.%(process_name)s']}
`})
	want := map[string]string{
		"refused": "connection refused",
		"dns":     `the name "gw.invalid" does not resolve`,
		"tls":     "TLS handshake failed: the server does not speak TLS",
		"json":    "HTTP 200, but the body is not a JSON object",
	}
	for check, w := range want {
		e.waitDetail(t, check, "evidence", w)
	}
	pid := e.s.ProcessPID(t, "strat")
	e.write(t, "strat.health", "500 down\n")
	e.s.WaitRestarted(t, "strat", pid, waitAction)
	e.waitAction(t, "api", "strat:strat", "restarted", "2 consecutive failures: HTTP 500")
	e.waitDetail(t, "api", "diagnostics", "stack dump of strat pid "+strconv.Itoa(pid))
	for _, f := range []string{"pre.strat", "post.strat"} {
		if !e.exists(f) {
			t.Errorf("hook did not write %s", f)
		}
	}
	code, out := harness.RunBin(t, "./listeners/healthprobe", "status", "-config", e.s.Path("superguard.yaml"))
	if code != 0 || !strings.Contains(out, "restarted") || !strings.Contains(out, "2 consecutive failures: HTTP 500 (want 2xx)") ||
		!strings.Contains(out, "connection refused") {
		t.Errorf("healthprobe status: exit %d\n%s", code, out)
	}
}

// TestHangingTargetDoesNotHoldTheOthers: one target that never answers
// (each probe waits out its 4s timeout), with a single probe slot
// (concurrency 1), beside one that fails fast: the fast one is still
// probed every period and restarted at its threshold, and the hung one
// times out and is restarted too.
func TestHangingTargetDoesNotHoldTheOthers(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: strat + harness.Program{Name: "hung",
		Command: fake + " -health-addr 127.0.0.1:{{.Vars.port1}}"}.Section(), Healthprobe: `
concurrency: 1
checks:
  - {name: fast, processes: [strat], http: {url: "http://127.0.0.1:{{.Vars.port0}}/health"}, grace: 1s, failures: 3}
  - {name: slow, processes: [hung], http: {url: "http://127.0.0.1:{{.Vars.port1}}/health"}, timeout: 4s, grace: 1s, failures: 3}
`})
	e.waitTarget(t, "slow", "hung:hung", "hung healthy", waitUp, func(s targetStatus) bool { return s.State == "healthy" })
	fastPID, hungPID := e.s.ProcessPID(t, "strat"), e.s.Signal(t, "hung", syscall.SIGUSR2)
	e.write(t, "strat.health", "500 down\n")
	e.s.WaitRestarted(t, "strat", fastPID, waitAction)
	e.waitAction(t, "fast", "strat:strat", "restarted", "3 consecutive failures: HTTP 500")
	e.s.WaitRestarted(t, "hung", hungPID, waitAction)
	e.waitAction(t, "slow", "hung:hung", "restarted", "no answer within 4s")
}

// TestOutsideActiveWindowNothingHappens: a check limited to a window that
// is not now pauses: a failing program is not restarted.
func TestOutsideActiveWindowNothingHappens(t *testing.T) {
	t.Parallel()
	tomorrow := strings.ToLower(time.Now().UTC().Add(24 * time.Hour).Weekday().String()[:3])
	e := start(t, scenario{Programs: strat, Healthprobe: apiCheck("grace: 1s", "failures: 1",
		`active: {timezone: UTC, windows: [{days: [`+tomorrow+`], start: "00:00", end: "24:00"}]}`)})
	e.write(t, "strat.health", "500 weekend maintenance\n")
	pid := e.s.ProcessPID(t, "strat")
	e.waitTarget(t, "api", "strat:strat", "outside window", waitUp, func(s targetStatus) bool { return s.State == "outside window" })
	e.waitRounds(t, 3)
	if got := e.s.ProcessPID(t, "strat"); got != pid || harness.RestartsRecorded(t, e.store, "strat:strat") != 0 {
		t.Errorf("restarted outside its window (pid %d -> %d)", pid, got)
	}
}
