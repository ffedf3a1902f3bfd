package golden_test

import (
	"strings"
	"testing"
)

// TestCrashpagerTranscript runs crashpager without a supervisord (its
// supervisor.url names a socket nobody serves) on a TICK, a target exiting
// unexpectedly then going FATAL, an expected exit, a watched listener
// (haltguard, crashpager's critical kind) exiting and going FATAL, a
// REMOTE_COMMUNICATION and a malformed state payload: every event is
// acknowledged with exactly the protocol bytes and the alerts are committed.
func TestCrashpagerTranscript(t *testing.T) {
	t.Parallel()
	_, stderr := transcript{
		name:   "crashpager",
		pkg:    "./listeners/crashpager",
		config: configHead + "  crashpager:\n    listeners: [haltguard]\n",
		events: []event{
			firstTick,
			mmExited,
			{"PROCESS_STATE_BACKOFF", "processname:mm groupname:trading from_state:STARTING tries:1"},
			mmFatal,
			{"PROCESS_STATE_EXITED", "processname:report groupname:batch from_state:RUNNING expected:1 pid:4250"},
			{"PROCESS_STATE_EXITED", "processname:haltguard groupname:haltguard from_state:RUNNING expected:0 pid:4300"},
			{"PROCESS_STATE_FATAL", "processname:haltguard groupname:haltguard from_state:BACKOFF"},
			deploy,
			{"PROCESS_STATE_EXITED", "this is not a state payload"},
			lastTick,
		},
		log: []logWant{
			{message: "crashpager started"},
			{message: "reconciliation failed", contains: "no-supervisord.sock"},
			{message: "alert committed", contains: `"key":"h1/trading:mm/exited"`},
			{message: "alert committed", contains: `"key":"h1/trading:mm/fatal"`},
			{message: "alert committed", contains: `"summary":"superguard listener haltguard:haltguard exited"`},
			{message: "alert committed", contains: `"summary":"superguard listener haltguard:haltguard is FATAL"`},
			{message: "unparsable payload: acknowledged without handling", contains: `"serial":9`},
			{message: "stdin closed: exiting"},
		},
	}.play(t)
	// The expected exit of batch:report pages nobody. The events after it
	// were handled, so its absence is final, not early.
	if strings.Contains(stderr, "batch:report") {
		t.Errorf("the expected exit of batch:report was alerted:\n%s", stderr)
	}
}
