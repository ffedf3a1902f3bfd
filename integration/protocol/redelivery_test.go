package protocol

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/superguard/superguard/integration/eventrecord"
	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestFailRedelivers: supervisord re-sends a FAILed event at once, with the
// same serial. testlistener FAILs the first two deliveries, so the event
// arrives three times; the library counts the attempts and marks the re-sends.
func TestFailRedelivers(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{
		Expect: []harness.Problem{harness.ProblemRejected},
		Sections: harness.Listener{Name: "tl", Events: "REMOTE_COMMUNICATION",
			Command: `{{bin "` + testlistener + `"}} -record {{.Dir}}/tl.jsonl -fail-first 2 -fail-match ^REMOTE_COMMUNICATION$`}.Section()})
	s.WaitListenerLog(t, "tl", `"message":"started"`, wait)
	if err := s.Client.SendRemoteCommEvent(ctx(t), "superguard.test", "fail me twice ✓"); err != nil {
		t.Fatal(err)
	}
	// A second event: delivered only once the first is acknowledged, so once
	// it arrives the first has had all of its deliveries.
	if err := s.Client.SendRemoteCommEvent(ctx(t), "superguard.test", "then me"); err != nil {
		t.Fatal(err)
	}
	recs := waitRecords(t, s.Path("tl.jsonl"), 4, "3 deliveries of the first event and 1 of the second", func(r eventrecord.Record) bool {
		return r.Kind == eventrecord.KindEvent
	})
	if len(recs) != 4 {
		t.Fatalf("got %d deliveries, want 4:\n%s", len(recs), dump(recs))
	}
	want := []struct {
		answer      string
		attempt     int
		redelivered bool
	}{{"FAIL", 1, false}, {"FAIL", 2, true}, {"OK", 3, true}}
	for i, w := range want {
		r := recs[i]
		if r.Serial != recs[0].Serial || r.PoolSerial != recs[0].PoolSerial || r.PID != recs[0].PID {
			t.Errorf("delivery %d: serial %d poolserial %d pid %d, want the first delivery's %d %d %d",
				i+1, r.Serial, r.PoolSerial, r.PID, recs[0].Serial, recs[0].PoolSerial, recs[0].PID)
		}
		if r.Answer != w.answer || r.Attempt != w.attempt || r.Redelivered != w.redelivered {
			t.Errorf("delivery %d: answer %s attempt %d redelivered %v, want %s %d %v",
				i+1, r.Answer, r.Attempt, r.Redelivered, w.answer, w.attempt, w.redelivered)
		}
		if r.Payload != "type:superguard.test\nfail me twice ✓" {
			t.Errorf("delivery %d payload = %q", i+1, r.Payload)
		}
	}
	if last := recs[3]; last.Serial == recs[0].Serial || last.Attempt != 1 || last.Redelivered || last.Payload != "type:superguard.test\nthen me" {
		t.Errorf("second event delivery = %+v", last)
	}
	if n := len(s.ProblemLines()[harness.ProblemRejected]); n != 2 {
		t.Errorf("supervisord logged %d rejections, want 2", n)
	}
}

// TestKilledMidEventGetsItAgain: a listener SIGKILLed while handling an
// event gets that event again (same serial) after supervisord restarts it,
// and the library, reading its state file, marks it Redelivered.
func TestKilledMidEventGetsItAgain(t *testing.T) {
	t.Parallel()
	onBackendsWhereListenersExit(t, killedMidEvent)
}

func killedMidEvent(t *testing.T, b harness.Backend) {
	s := harness.Start(t, harness.Options{Backend: b, Sections: harness.Listener{Name: "tl", Events: "REMOTE_COMMUNICATION",
		Command: `{{bin "` + testlistener + `"}} -record {{.Dir}}/tl.jsonl -state-file {{.Dir}}/tl.state`,
		Extra:   []string{`environment=SUPERGUARD_TEST_PAUSE="REMOTE_COMMUNICATION",SUPERGUARD_TEST_PAUSE_MARKER="{{.Dir}}/tl.paused"`}}.Section()})
	s.WaitListenerLog(t, "tl", `"message":"started"`, wait)
	if err := s.Client.SendRemoteCommEvent(ctx(t), "superguard.test", "kill me mid-event"); err != nil {
		t.Fatal(err)
	}
	var serial int64
	testsupport.Eventually(t, wait, "pause marker", func() (bool, string) {
		b, err := os.ReadFile(s.Path("tl.paused"))
		if err != nil {
			return false, err.Error()
		}
		serial, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return err == nil, string(b)
	})
	oldPID := s.Signal(t, "tl", syscall.SIGKILL)
	s.WaitLog(t, `exited: tl \(terminated by SIGKILL; not expected\)`, wait)

	recs := waitRecords(t, s.Path("tl.jsonl"), 2, "the paused delivery and the re-sent one", func(r eventrecord.Record) bool {
		return r.Kind == eventrecord.KindEvent && r.Serial == serial
	})
	first, again := recs[0], recs[1]
	if first.Answer != eventrecord.AnswerPaused || first.PID != oldPID || first.Attempt != 1 || first.Redelivered {
		t.Errorf("first delivery = %+v, want PAUSED attempt 1 in pid %d", first, oldPID)
	}
	if again.Answer != eventrecord.AnswerOK || again.PID == oldPID || again.Attempt != 2 || !again.Redelivered {
		t.Errorf("re-sent delivery = %+v, want OK, attempt 2, redelivered, from a new pid", again)
	}
	if again.PoolSerial != first.PoolSerial || again.Payload != first.Payload {
		t.Errorf("re-sent delivery poolserial %d payload %q, want %d %q", again.PoolSerial, again.Payload, first.PoolSerial, first.Payload)
	}
	info := s.WaitProcessState(t, "tl", supervisor.ProcessRunning, wait)
	if info.PID != again.PID {
		t.Errorf("tl runs as pid %d, the re-sent event went to %d", info.PID, again.PID)
	}
}

// TestMalformedHeaderRestartsListener: a header that cannot be parsed
// desynchronises the stream, so the listener (eventlog, the shipped one)
// exits non-zero and supervisord restarts it. supervisord never sends one,
// so a shell pipes one in after the listener has been RUNNING for longer
// than startsecs.
func TestMalformedHeaderRestartsListener(t *testing.T) {
	t.Parallel()
	onBackendsWhereListenersExit(t, malformedHeader)
}

func malformedHeader(t *testing.T, b harness.Backend) {
	s := harness.Start(t, harness.Options{Backend: b, Sections: `
[eventlistener:bad]
command=sh -c '(sleep 1.5; printf "this is not a header\n") | {{bin "./listeners/eventlog"}}'
events=TICK_3600
startsecs=1
autorestart=true
stdout_logfile=NONE
stderr_logfile={{.Dir}}/bad.err
`})
	s.WaitLog(t, `exited: bad \(exit status 1; not expected\)`, wait)
	s.WaitListenerLog(t, "bad", `"level":"error".*unparsable header`, wait)
	// Restarted: spawned again after the unexpected exit, and RUNNING again.
	s.WaitLogCount(t, `spawned: 'bad' with pid`, 2, wait)
	s.WaitLogCount(t, `success: bad entered RUNNING state`, 2, wait)
}
