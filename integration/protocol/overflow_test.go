package protocol

import (
	"fmt"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/eventrecord"
	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/supervisor"
)

// burstSize is how many programs start at once in the burst scenarios.
const burstSize = 20

// burstSections returns a [group:burst] of n programs that do not start on
// their own: the test starts them all at once with startProcessGroup.
func burstSections(n int) string {
	var b strings.Builder
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("b%02d", i+1)
		fmt.Fprintf(&b, "\n[program:%s]\ncommand=sleep 1000\nautostart=false\nstartsecs=1\nstopwaitsecs=2\nstdout_logfile=NONE\nstderr_logfile=NONE\n", names[i])
	}
	return fmt.Sprintf("\n[group:burst]\nprograms=%s\n", strings.Join(names, ",")) + b.String()
}

// startBurst starts every program of the burst group at once and waits for
// all of them to be RUNNING.
func startBurst(t *testing.T, s *harness.Supervisord) {
	t.Helper()
	statuses, err := s.Client.StartProcessGroup(ctx(t), "burst", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != burstSize {
		t.Fatalf("startProcessGroup started %d programs, want %d", len(statuses), burstSize)
	}
	for i := range burstSize {
		s.WaitProcessState(t, fmt.Sprintf("burst:b%02d", i+1), supervisor.ProcessRunning, wait)
	}
}

// TestBurstOverflowsDefaultBuffer is the control for the shipped
// buffer_size: with supervisord's default of 10, 20 programs starting at
// once overflow the pool's buffer even for a listener that answers at once.
// The harness must see the overflow (Options.Expect), and the library must
// see the poolserial gap it leaves and reconcile.
func TestBurstOverflowsDefaultBuffer(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{
		Expect: []harness.Problem{harness.ProblemOverflow},
		Sections: `
[eventlistener:tl]
command={{bin "` + testlistener + `"}} -record {{.Dir}}/tl.jsonl -reconcile
events=PROCESS_STATE
buffer_size=10
priority=1000
stdout_logfile=NONE
stderr_logfile={{.Dir}}/tl.err
` + burstSections(burstSize)})
	// Before the burst the listener must have received an event (its own
	// RUNNING): a gap is only visible after a first poolserial, and on a busy
	// machine supervisord may not have dispatched anything yet.
	waitRecords(t, s.Path("tl.jsonl"), 1, "tl's own RUNNING event", func(r eventrecord.Record) bool {
		return r.Kind == eventrecord.KindEvent && r.EventName == "PROCESS_STATE_RUNNING" && r.Fields["processname"] == "tl"
	})
	startBurst(t, s)

	line := s.WaitLog(t, `pool tl event buffer overflowed, discarding event \d+`, wait)
	t.Logf("supervisord: %s (%d such lines)", line, len(s.ProblemLines()[harness.ProblemOverflow]))

	recs := waitRecords(t, s.Path("tl.jsonl"), 1, "a reconciliation after the gap", func(r eventrecord.Record) bool {
		return r.Kind == eventrecord.KindReconcile && r.Reason == "gap"
	})
	if recs[0].Missed <= 0 || recs[0].Processes != burstSize+1 {
		t.Errorf("gap reconciliation = %+v, want missed > 0 and %d processes", recs[0], burstSize+1)
	}
	gapped := waitRecords(t, s.Path("tl.jsonl"), 1, "an event marked with missed events", func(r eventrecord.Record) bool {
		return r.Kind == eventrecord.KindEvent && r.Missed > 0
	})
	if gapped[0].Missed != recs[0].Missed {
		t.Errorf("event says %d missed, reconciliation says %d", gapped[0].Missed, recs[0].Missed)
	}
}

// TestBurstWithShippedBufferSize: the same burst of 20 programs starting at
// once leaves no "event buffer overflowed" line (the harness fails the test
// on one) with the listener block the project ships, and eventlog logs every
// state change of the burst.
func TestBurstWithShippedBufferSize(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{
		Files:    map[string]string{"log/.keep": "", "lib/.keep": ""},
		Sections: harness.ShippedConf(t, "conf.d/eventlog.conf") + burstSections(burstSize),
	})
	s.WaitProcessState(t, "eventlog", supervisor.ProcessRunning, wait)
	startBurst(t, s)
	for _, state := range []string{"STARTING", "RUNNING"} {
		pattern := `"eventname":"PROCESS_STATE_` + state + `".*"group":"burst"`
		lines := s.WaitListenerLogCount(t, "eventlog", pattern, burstSize, wait)
		if len(lines) != burstSize {
			t.Errorf("eventlog logged %d %s events of the burst, want %d", len(lines), state, burstSize)
		}
	}
	if lines := s.ProblemLines()[harness.ProblemOverflow]; len(lines) > 0 {
		t.Errorf("overflow with the shipped buffer_size:\n%s", strings.Join(lines, "\n"))
	}
	if log := s.ReadListenerStderr("eventlog"); strings.Contains(log, `"missed"`) || strings.Contains(log, `"reconciliation"`) {
		t.Errorf("eventlog saw a poolserial gap:\n%s", log)
	}
}
