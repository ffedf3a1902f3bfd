package crashpager_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
)

// TestFiftyProgramsCrashingAtOnce checks that a burst of exits is handled
// without supervisord dropping events: the harness fails the test on any
// "event buffer overflowed" line in supervisord's log, and every crash is
// committed as an alert.
func TestFiftyProgramsCrashingAtOnce(t *testing.T) {
	t.Parallel()
	const n = 50
	// Fifty sleepers in one group, killed with one signalProcessGroup: every
	// exit is unexpected (a signal is never an expected exit code), and they
	// all happen within the same turn of supervisord's loop.
	var progs, names strings.Builder
	for i := range n {
		fmt.Fprintf(&progs, `[program:p%02d]
command=/bin/sleep 1000
startsecs=0
autorestart=false
stopwaitsecs=2
stderr_logfile={{.Dir}}/p%02d.err

`, i, i)
		if i > 0 {
			names.WriteString(",")
		}
		fmt.Fprintf(&names, "p%02d", i)
	}
	progs.WriteString("[group:burst]\nprograms=" + names.String() + "\n")
	// Warnings go to the log sink only: 50 Slack messages at 1/s would
	// only slow the test down.
	e := start(t, scenario{
		Crashpager:     "stable_for: 60s",
		Programs:       progs.String(),
		Sinks:          "  - {name: pd, type: pagerduty, routing_key_env: PD_KEY, events_url: \"{{.Vars.pd}}\"}\n  - {name: log, type: log}\n",
		Routes:         "  - match: {severity: critical}\n    sinks: [pd]\n  - sinks: [log]\n",
		NoSlackWebhook: true,
		StartTimeout:   2 * time.Minute, // fifty spawns on a busy machine
	})
	testsupport.Eventually(t, 60*time.Second, "every program running", func() (bool, string) {
		infos, err := e.s.Client.GetAllProcessInfo(t.Context())
		if err != nil {
			return false, err.Error()
		}
		running := 0
		for _, i := range infos {
			if i.Name != "crashpager" && i.StateName == "RUNNING" {
				running++
			}
		}
		return running == n, fmt.Sprintf("%d of %d running", running, n)
	})
	if _, err := e.s.Client.SignalProcessGroup(t.Context(), "burst", "KILL"); err != nil {
		t.Fatalf("signalProcessGroup: %v", err)
	}
	e.s.WaitLogCount(t, `exited: p\d\d \(terminated by SIGKILL; not expected\)`, n, 60*time.Second)
	lines := e.s.WaitListenerLogCount(t, "crashpager", `"kind":"trigger".*"message":"alert committed"`, n, 60*time.Second)
	seen := map[string]bool{}
	for _, l := range lines {
		for i := range n {
			if k := alert.Key(host, fmt.Sprintf("burst:p%02d", i), alert.CondExited); strings.Contains(l, `"key":"`+k+`"`) {
				seen[k] = true
			}
		}
	}
	if len(seen) != n {
		t.Errorf("alerts committed for %d programs, want %d", len(seen), n)
	}
	if p := e.s.ProblemLines()[harness.ProblemOverflow]; len(p) > 0 {
		t.Errorf("supervisord dropped events:\n%s", strings.Join(p, "\n"))
	}
}
