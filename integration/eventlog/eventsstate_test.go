package eventlog

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/superguard/superguard/integration/harness"
)

// TestUnwritableEventsStateNoFalseGap: when eventlog's events-state file
// cannot be written (its temporary file's name taken, as a full disk would
// make every save fail), a restart of eventlog must not report the events
// it handled meanwhile as dropped by supervisord ("poolserial gap"): the
// file it left would be stale.
func TestUnwritableEventsStateNoFalseGap(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{Sections: harness.Listener{Name: "eventlog",
		Command: `{{bin "` + eventlogPkg + `"}} -events-state {{.Dir}}/events.json`, Events: "REMOTE_COMMUNICATION"}.Section()})
	remote := func(data string) {
		t.Helper()
		if err := s.Client.SendRemoteCommEvent(ctx(t), "superguard.test", data); err != nil {
			t.Fatal(err)
		}
	}
	remote("saved")
	events(t, s, "eventlog", 1, "the first event", isEvent("REMOTE_COMMUNICATION", ""))
	if err := os.Mkdir(s.Path("events.json.tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"not saved 1", "not saved 2", "not saved 3"} {
		remote(d)
	}
	events(t, s, "eventlog", 4, "the events not saved", isEvent("REMOTE_COMMUNICATION", ""))
	if err := os.Remove(s.Path("events.json.tmp")); err != nil {
		t.Fatal(err)
	}
	s.Signal(t, "eventlog", syscall.SIGKILL)
	s.WaitLog(t, `exited: eventlog \(terminated by SIGKILL; not expected\)`, wait)
	s.WaitLogCount(t, `success: eventlog entered RUNNING state`, 2, wait)
	remote("after the restart")
	events(t, s, "eventlog", 5, "the event after the restart", isEvent("REMOTE_COMMUNICATION", ""))
	for _, l := range parseLines(t, s.ReadListenerStderr("eventlog"), "eventlog") {
		if strings.Contains(l.Message, "poolserial gap") {
			t.Errorf("a false gap after the restart: %s", l)
		}
	}
}
