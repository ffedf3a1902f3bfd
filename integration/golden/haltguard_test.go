package golden_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/supervisor"
)

// haltguardConfig is the shared config of the haltguard transcripts:
// risk:rm is critical, the trading group is what a halt stops. {{.Dir}} is
// the test's directory, {{.URL}} the supervisord to reach.
const haltguardConfig = `host: h1
state_path: {{.Dir}}/state.db
supervisor:
  url: {{.URL}}
sinks:
  - {name: log, type: log}
routes:
  - sinks: [log]
listeners:
  haltguard:
    critical: [risk:rm]
    targets: [trading]
`

// haltguardQuietEvents is a transcript that must not halt: a TICK, a target
// (trading:mm) exiting and going FATAL, the critical program exiting
// expectedly and unexpectedly (EXITED halts only with trigger_on_exited), a
// REMOTE_COMMUNICATION of a type haltguard ignores, with a non-ASCII
// payload, a malformed state payload, and a last TICK.
var haltguardQuietEvents = []event{
	{"TICK_60", "when:1700000060"},
	{"PROCESS_STATE_EXITED", "processname:mm groupname:trading from_state:RUNNING expected:0 pid:4242"},
	{"PROCESS_STATE_FATAL", "processname:mm groupname:trading from_state:BACKOFF"},
	{"PROCESS_STATE_EXITED", "processname:rm groupname:risk from_state:RUNNING expected:1 pid:4300"},
	{"PROCESS_STATE_EXITED", "processname:rm groupname:risk from_state:RUNNING expected:0 pid:4301"},
	{"REMOTE_COMMUNICATION", "type:deploy\nv1 \u2713 done"},
	{"PROCESS_STATE_FATAL", "this is not a state payload"},
	{"TICK_60", "when:1700000120"},
}

// TestHaltguardQuietTranscript runs haltguard without a supervisord on a
// transcript that must not halt: every event is acknowledged with exactly
// the protocol bytes and the latch stays clear.
func TestHaltguardQuietTranscript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	config := writeFile(t, dir, "superguard.yaml", strings.NewReplacer(
		"{{.Dir}}", dir, "{{.URL}}", "unix://"+dir+"/no-supervisord.sock").Replace(haltguardConfig))
	stdin := envelopes("haltguard", haltguardQuietEvents)
	r := runListener(t, "./listeners/haltguard", stdin,
		[]string{"SUPERGUARD_CONFIG=" + config, "SUPERGUARD_STATE=" + statePath},
		"-config", config, "-state", statePath, "-log-level", "info")
	if r.code != 0 {
		t.Errorf("exit %d on EOF, want 0", r.code)
	}
	compareTranscript(t, "haltguard-quiet", stdin, r.stdout)
	checkLog(t, r.stderr, []logWant{
		{message: "haltguard starting"},
		{message: "reconciliation failed", contains: "no-supervisord.sock"},
		{message: "tick check: read process states"},
		{message: "unparsable payload: acknowledged without handling", contains: `"serial":7`},
		{message: "stdin closed: exiting"},
	})
	// The last TICK was acknowledged after every earlier event was handled:
	// had one of them halted, the latch would be set by now.
	if h := readLatch(t, statePath); h.Latched {
		t.Errorf("latched by a transcript that must not halt: %+v", h)
	}
}

// haltguardHaltEvents is a transcript that halts: the critical risk:rm goes
// FATAL, then a target starts again while halted (haltguard stops it), a
// remote halt request arrives while already halted, and a last TICK.
var haltguardHaltEvents = []event{
	{"TICK_60", "when:1700000060"},
	{"PROCESS_STATE_FATAL", "processname:rm groupname:risk from_state:BACKOFF"},
	{"PROCESS_STATE_STARTING", "processname:mm groupname:trading from_state:STOPPED tries:0"},
	{"REMOTE_COMMUNICATION", "type:superguard.halt\n{\"reason\": \"desk says stop\", \"by\": \"alice\"}"},
	{"TICK_60", "when:1700000120"},
}

// TestHaltguardHaltTranscript runs haltguard against a real supervisord
// whose trading group runs, on a transcript where the critical program goes
// FATAL: the acknowledgements are exactly the protocol bytes, the latch is
// set and every target is stopped.
func TestHaltguardHaltTranscript(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{Sections: `
[program:rm]
command=sleep 1000
startsecs=0

[group:risk]
programs=rm

[program:mm]
command=sleep 1000
startsecs=0
stopwaitsecs=5

[group:trading]
programs=mm
`})
	s.WaitProcessState(t, "trading:mm", supervisor.ProcessRunning, 30*time.Second)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	config := writeFile(t, dir, "superguard.yaml", strings.NewReplacer(
		"{{.Dir}}", dir, "{{.URL}}", s.URL).Replace(haltguardConfig))
	stdin := envelopes("haltguard", haltguardHaltEvents)
	r := runListener(t, "./listeners/haltguard", stdin,
		[]string{"SUPERGUARD_CONFIG=" + config, "SUPERGUARD_STATE=" + statePath},
		"-config", config, "-state", statePath, "-log-level", "info")
	if r.code != 0 {
		t.Errorf("exit %d on EOF, want 0", r.code)
	}
	compareTranscript(t, "haltguard-halt", stdin, r.stdout)
	checkLog(t, r.stderr, []logWant{
		{message: "haltguard starting"},
		{message: "reconciled", contains: `"processes":2`},
		{message: "audit", contains: `"action":"halt","trace_id":`},
		{message: "audit", contains: `"reason":"risk:rm FATAL (event)"`},
		{message: "audit", contains: `"action":"latch"`},
		{message: "audit", contains: `"action":"stop"`},
		{message: "audit", contains: `"action":"already_halted"`},
		{message: "remote command", contains: `"type":"superguard.halt"`},
		{message: "audit", contains: `"action":"halt_done"`},
		{message: "stdin closed: exiting"},
	})
	if h := readLatch(t, statePath); !h.Latched || h.Process != "risk:rm" || h.ProcessState != "FATAL" {
		t.Errorf("latch after a critical FATAL = %+v, want latched by risk:rm FATAL", h)
	}
	s.WaitProcessState(t, "trading:mm", supervisor.ProcessStopped, 30*time.Second)
}
