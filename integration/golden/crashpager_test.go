package golden_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// crashpagerEvents is crashpager's transcript: a TICK, a non-critical
// program (trading:mm) exiting unexpectedly then going FATAL, an expected
// exit, a watched listener (haltguard, crashpager's critical kind) exiting
// and going FATAL, a REMOTE_COMMUNICATION with a non-ASCII payload (len
// counts characters), a malformed state payload, and a last TICK.
var crashpagerEvents = []event{
	{"TICK_60", "when:1700000060"},
	{"PROCESS_STATE_EXITED", "processname:mm groupname:trading from_state:RUNNING expected:0 pid:4242"},
	{"PROCESS_STATE_BACKOFF", "processname:mm groupname:trading from_state:STARTING tries:1"},
	{"PROCESS_STATE_FATAL", "processname:mm groupname:trading from_state:BACKOFF"},
	{"PROCESS_STATE_EXITED", "processname:report groupname:batch from_state:RUNNING expected:1 pid:4250"},
	{"PROCESS_STATE_EXITED", "processname:haltguard groupname:haltguard from_state:RUNNING expected:0 pid:4300"},
	{"PROCESS_STATE_FATAL", "processname:haltguard groupname:haltguard from_state:BACKOFF"},
	{"REMOTE_COMMUNICATION", "type:deploy\nv1 \u2713 done"},
	{"PROCESS_STATE_EXITED", "this is not a state payload"},
	{"TICK_60", "when:1700000120"},
}

// TestCrashpagerTranscript runs crashpager without a supervisord (its
// supervisor.url names a socket nobody serves): every event must still be
// acknowledged with exactly the protocol bytes, and the alerts committed
// and logged.
func TestCrashpagerTranscript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	config := writeFile(t, dir, "superguard.yaml", strings.ReplaceAll(`host: h1
state_path: {{.Dir}}/state.db
supervisor:
  url: unix://{{.Dir}}/no-supervisord.sock
sinks:
  - {name: log, type: log}
routes:
  - sinks: [log]
listeners:
  crashpager:
    listeners: [haltguard]
`, "{{.Dir}}", dir))
	stdin := envelopes("crashpager", crashpagerEvents)
	r := runListener(t, "./listeners/crashpager", stdin,
		[]string{"SUPERGUARD_CONFIG=" + config, "SUPERGUARD_STATE=" + statePath},
		"-config", config, "-state", statePath, "-log-level", "info")
	if r.code != 0 {
		t.Errorf("exit %d on EOF, want 0", r.code)
	}
	compareTranscript(t, "crashpager", stdin, r.stdout)
	checkLog(t, r.stderr, []logWant{
		{message: "crashpager started"},
		{message: "reconciliation failed", contains: "no-supervisord.sock"},
		{message: "alert committed", contains: `"key":"h1/trading:mm/exited"`},
		{message: "alert committed", contains: `"key":"h1/trading:mm/fatal"`},
		{message: "alert committed", contains: `"summary":"superguard listener haltguard:haltguard exited"`},
		{message: "alert committed", contains: `"summary":"superguard listener haltguard:haltguard is FATAL"`},
		{message: "unparsable payload: acknowledged without handling", contains: `"serial":9`},
		{message: "stdin closed: exiting"},
	})
	// The expected exit of batch:report pages nobody. The events after it
	// were handled, so its absence is final, not early.
	if strings.Contains(r.stderr, "batch:report") {
		t.Errorf("the expected exit of batch:report was alerted:\n%s", r.stderr)
	}
}
