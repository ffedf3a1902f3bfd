package golden_test

import (
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/supervisor"
)

// haltguardConfig is the config of the haltguard transcripts: risk:rm is
// critical, the trading group is what a halt stops.
const haltguardConfig = configHead + `  haltguard:
    critical: [risk:rm]
    targets: [trading]
`

// TestHaltguardQuietTranscript runs haltguard without a supervisord on a
// transcript that must not halt: a TICK, a target exiting and going FATAL,
// the critical program exiting expectedly and unexpectedly (EXITED halts
// only with trigger_on_exited), a REMOTE_COMMUNICATION of a type haltguard
// ignores and a malformed state payload. Every event is acknowledged with
// exactly the protocol bytes and the latch stays clear.
func TestHaltguardQuietTranscript(t *testing.T) {
	t.Parallel()
	statePath, _ := transcript{
		name:   "haltguard-quiet",
		pkg:    "./listeners/haltguard",
		config: haltguardConfig,
		events: []event{
			firstTick,
			mmExited,
			mmFatal,
			{"PROCESS_STATE_EXITED", "processname:rm groupname:risk from_state:RUNNING expected:1 pid:4300"},
			{"PROCESS_STATE_EXITED", "processname:rm groupname:risk from_state:RUNNING expected:0 pid:4301"},
			deploy,
			{"PROCESS_STATE_FATAL", "this is not a state payload"},
			lastTick,
		},
		log: []logWant{
			{message: "haltguard starting"},
			{message: "reconciliation failed", contains: "no-supervisord.sock"},
			{message: "tick check: read process states"},
			{message: "unparsable payload: acknowledged without handling", contains: `"serial":7`},
			{message: "stdin closed: exiting"},
		},
	}.play(t)
	// The last TICK was acknowledged after every earlier event was handled:
	// had one of them halted, the latch would be set by now.
	if h := readLatch(t, statePath); h.Latched {
		t.Errorf("latched by a transcript that must not halt: %+v", h)
	}
}

// TestHaltguardHaltTranscript runs haltguard against a real supervisord
// whose trading group runs, on a transcript where the critical risk:rm goes
// FATAL, then a target starts again while halted, and a remote halt request
// arrives while already halted: the acknowledgements are exactly the
// protocol bytes, the latch is set and the target is stopped.
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
	statePath, _ := transcript{
		name:   "haltguard-halt",
		pkg:    "./listeners/haltguard",
		config: haltguardConfig,
		url:    s.URL,
		events: []event{
			firstTick,
			{"PROCESS_STATE_FATAL", "processname:rm groupname:risk from_state:BACKOFF"},
			{"PROCESS_STATE_STARTING", "processname:mm groupname:trading from_state:STOPPED tries:0"},
			{"REMOTE_COMMUNICATION", "type:superguard.halt\n{\"reason\": \"desk says stop\", \"by\": \"alice\"}"},
			lastTick,
		},
		log: []logWant{
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
		},
	}.play(t)
	if h := readLatch(t, statePath); !h.Latched || h.Process != "risk:rm" || h.ProcessState != "FATAL" {
		t.Errorf("latch after a critical FATAL = %+v, want latched by risk:rm FATAL", h)
	}
	s.WaitProcessState(t, "trading:mm", supervisor.ProcessStopped, 30*time.Second)
}
