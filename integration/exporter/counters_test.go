package exporter_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestCrashLoopExactAcrossKill: a program in group trading exits 20 times
// and stays up; the exporter is SIGKILLed in the middle of the loop and
// restarted by supervisord. The counters are exact: 20 restarts, 20
// unexpected exits, none counted twice (re-sent events, a start-up
// reconciliation ahead of the queued events) and none lost (persisted
// before each ack).
func TestCrashLoopExactAcrossKill(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: crashLoop("looper", "trading", 20) +
		harness.Program{Name: "once", Command: `/bin/sh -c 'sleep 0.5; exit 3'`, Extra: []string{"startsecs=0", "autorestart=false"}}.Section()})
	labels := []string{"name", "looper", "group", "trading"}
	e.waitValue(t, "a few restarts counted", waitLoop, func(v float64) bool { return v >= 4 }, "supervisor_process_restart_total", labels...)
	e.s.Signal(t, "exporter", syscall.SIGKILL)
	e.s.WaitListenerLogCount(t, "exporter", `"message":"exporter ready"`, 2, waitUp)
	testsupport.Eventually(t, waitLoop, "looper's 21st run", func() (bool, string) {
		b, _ := os.ReadFile(e.s.Path("looper.runs"))
		return strings.TrimSpace(string(b)) == "21", "runs: " + string(b)
	})
	e.s.WaitProcessState(t, "trading:looper", supervisor.ProcessRunning, waitLoop)
	e.waitValue(t, "every restart counted", waitLoop, func(v float64) bool { return v >= 20 }, "supervisor_process_restart_total", labels...)
	fams, err := scrape(t, e.url())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"supervisor_process_restart_total", labels, 20},
		{"supervisor_process_exit_total", append(labels, "expected", "false"), 20},
		{"supervisor_process_exit_total", append(labels, "expected", "true"), 0},
		{"supervisor_process_exit_status", []string{"name", "once"}, 3},
		{"supervisor_process_exit_total", []string{"name", "once", "expected", "false"}, 1},
		{"supervisor_process_restart_total", []string{"name", "once"}, 0},
		{"supervisor_process_info", append(labels, "state", "RUNNING"), 1},
		{"supervisord_up", nil, 1},
	} {
		if v, ok := value(fams, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s{%s} = %v (present %v), want %v", c.name, strings.Join(c.labels, ","), v, ok, c.want)
		}
	}
	if v, ok := value(fams, "supervisor_process_exit_total", append(labels, "expected", "unknown")...); ok {
		t.Errorf("%v exits counted as unknown: no event was dropped", v)
	}
	if up, _ := value(fams, "supervisor_process_uptime_seconds", labels...); up <= 0 {
		t.Errorf("uptime = %v for a RUNNING process", up)
	}
}

// TestOverflowReconciled: 30 programs exit once at the same moment into an
// exporter with a buffer of 10 events; supervisord drops events, the
// exporter counts the gap (superguard_events_dropped_total) and
// reconciles: every program shows exactly one restart and one exit.
func TestOverflowReconciled(t *testing.T) {
	t.Parallel()
	const n = 30
	var progs strings.Builder
	for i := range n {
		progs.WriteString(harness.Program{Name: fmt.Sprintf("p%02d", i), Command: `/bin/sh -c 'f={{.Dir}}/gate; while [ ! -e $f.go ]; do sleep 0.05; done; ` +
			`if [ ! -e $f.` + fmt.Sprint(i) + ` ]; then touch $f.` + fmt.Sprint(i) + `; exit 1; fi; exec sleep 3600'`,
			Extra: []string{"startsecs=0"}}.Section())
	}
	e := start(t, scenario{BufferSize: 10, Programs: progs.String(), Tolerate: []harness.Problem{harness.ProblemOverflow}})
	e.waitValue(t, "every program exported", waitUp, func(v float64) bool { return v == 1 }, "supervisor_process_info", "name", fmt.Sprintf("p%02d", n-1), "state", "RUNNING")
	if err := os.WriteFile(e.s.Path("gate.go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.s.WaitLog(t, "overflowed", waitLoop)
	// A gap is seen on the next event after it: TICK_5 brings one.
	e.waitValue(t, "the dropped events counted", waitLoop, func(v float64) bool { return v > 0 }, "superguard_events_dropped_total", "listener", "exporter")
	for i := range n {
		name := fmt.Sprintf("p%02d", i)
		e.s.WaitProcessState(t, name, supervisor.ProcessRunning, waitLoop)
		e.waitValue(t, name+" restarted once", waitLoop, func(v float64) bool { return v == 1 }, "supervisor_process_restart_total", "name", name)
	}
	if log := e.s.ReadListenerStderr("exporter"); !strings.Contains(log, "events dropped: counters reconciled") {
		t.Error("the exporter logged no reconciliation after the dropped events")
	}
	fams, err := scrape(t, e.url())
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("p%02d", i)
		r, _ := value(fams, "supervisor_process_restart_total", "name", name)
		x1, _ := value(fams, "supervisor_process_exit_total", "name", name, "expected", "false")
		x2, _ := value(fams, "supervisor_process_exit_total", "name", name, "expected", "unknown")
		if r != 1 || x1+x2 != 1 {
			t.Errorf("%s: %v restarts, %v+%v exits; want exactly 1 each", name, r, x1, x2)
		}
	}
}

// TestScrapeDuringStorm: 50 programs crash-loop at once (5 exits each);
// scrapes during the storm answer with every program, and once it is
// over every program shows 5 restarts (events were not dropped: the
// buffer holds the storm).
func TestScrapeDuringStorm(t *testing.T) {
	t.Parallel()
	const n, exits = 50, 5
	var progs strings.Builder
	for i := range n {
		progs.WriteString(crashLoop(fmt.Sprintf("s%02d", i), "", exits))
	}
	e := start(t, scenario{Programs: progs.String(), BufferSize: 4096})
	scrapes := 0
	testsupport.Eventually(t, 3*waitLoop, "the storm over", func() (bool, string) {
		fams, err := scrape(t, e.url())
		if err != nil {
			t.Fatalf("scrape %d during the storm: %v", scrapes+1, err)
		}
		scrapes++
		if got := len(fams["supervisor_process_restart_total"].GetMetric()); got < n {
			return false, fmt.Sprintf("%d processes exported", got)
		}
		done := 0
		for i := range n {
			if v, _ := value(fams, "supervisor_process_restart_total", "name", fmt.Sprintf("s%02d", i)); v == exits {
				done++
			}
		}
		return done == n, fmt.Sprintf("%d of %d programs at %d restarts after %d scrapes", done, n, exits, scrapes)
	})
	if scrapes < 2 {
		t.Errorf("only %d scrapes: none during the storm", scrapes)
	}
	fams, err := scrape(t, e.url())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := value(fams, "superguard_events_dropped_total", "listener", "exporter"); v != 0 {
		t.Errorf("%v events dropped with a 4096-event buffer", v)
	}
}
