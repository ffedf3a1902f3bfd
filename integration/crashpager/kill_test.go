package crashpager_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// incidentIDs returns the distinct incident ids the triggers of key k
// carried.
func incidentIDs(evs []alerttest.PagerDutyEvent, k string) []string {
	seen := map[string]bool{}
	var out []string
	for _, ev := range evs {
		if ev.DedupKey != k || ev.Payload == nil {
			continue
		}
		id, _ := ev.Payload.Details()["incident_id"].(string)
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// killCrashpager SIGKILLs the running crashpager and waits until
// supervisord has started a new one.
func (e *env) killCrashpager(t *testing.T) {
	t.Helper()
	old := e.info(t, "crashpager").PID
	if old == 0 {
		t.Fatal("crashpager is not running")
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("kill crashpager %d: %v", old, err)
	}
	testsupport.Eventually(t, 30*time.Second, "crashpager restarted", func() (bool, string) {
		i := e.info(t, "crashpager")
		return i.State == supervisor.ProcessRunning && i.PID != old && i.PID != 0, i.StateName
	})
}

func TestKilledWhileSinkHangsResumesWithoutLossOrDuplicate(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Crashpager: "stable_for: 2s", Programs: brokenUntilFixed})
	fatal := key("feed", alert.CondFatal)
	e.pd.FailAll(alerttest.Hang())
	e.s.WaitProcessState(t, "feed", supervisor.ProcessFatal, 30*time.Second)
	// The trigger is committed and its delivery is in flight, hanging.
	if !e.pd.WaitUntil(30*time.Second, func() bool { return e.pd.Requests() > 0 }) {
		t.Fatal("crashpager never tried PagerDuty")
	}
	st := e.openStore(t)
	rows := deliveries(t, st, fatal)
	if len(rows) == 0 {
		t.Fatal("no outbox row for the FATAL while its delivery hangs")
	}
	e.killCrashpager(t)
	e.pd.Heal()
	e.waitPD(t, 60*time.Second, "the trigger after the restart", func() bool { return e.pd.Triggers(fatal) > 0 })

	writeFile(t, e.s.Path("fixed"), "")
	e.startProcess(t, "feed")
	e.waitPD(t, 60*time.Second, "the resolve", func() bool { return e.pd.Resolves(fatal) > 0 })
	if n := e.pd.Triggers(fatal); n != 1 {
		t.Errorf("%d triggers accepted for %s, want 1 (no duplicate incident)\n%s", n, fatal, pdEvents(e.pd))
	}
	if n := e.pd.Resolves(fatal); n != 1 {
		t.Errorf("%d resolves for %s, want 1", n, fatal)
	}
	if ids := incidentIDs(e.pd.Events(), fatal); len(ids) != 1 {
		t.Errorf("PagerDuty saw incidents %v, want one", ids)
	}
	e.waitSent(t, st, fatal, 30*time.Second)
	for _, d := range deliveries(t, st, fatal) {
		if d.Status != state.Sent {
			t.Errorf("delivery %d to %s (%s) is %s: %s", d.ID, d.Sink, d.Purpose, d.Status, d.LastError)
		}
	}
}

func TestKilledAfterOutboxCommitAddsNothingOnResend(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{
		Crashpager: "stable_for: 60s",
		// Pause once: the restarted crashpager finds the marker and runs
		// without the pause point.
		Command: `/bin/sh -c 'export SUPERGUARD_TEST_PAUSE_FILE={{.Dir}}/paused; if [ -f {{.Dir}}/paused ]; then unset SUPERGUARD_TEST_PAUSE; fi; exec << .Crashpager >>'`,
		Env:     []string{"SUPERGUARD_TEST_PAUSE=after-outbox-commit"},
		Programs: `[program:once]
command=/bin/sh -c 'while [ ! -f {{.Dir}}/go ]; do sleep 0.05; done; echo "dying once" >&2; exit 3'
startsecs=0
autorestart=false
stderr_logfile={{.Dir}}/once.err
`,
	})
	exited := key("once", alert.CondExited)
	writeFile(t, e.s.Path("go"), "")
	marker := e.s.Path("paused")
	testsupport.Eventually(t, 30*time.Second, "the pause marker", func() (bool, string) {
		b, err := os.ReadFile(marker)
		return err == nil && strings.TrimSpace(string(b)) == exited, string(b)
	})
	st := e.openStore(t)
	before := deliveries(t, st, exited)
	if len(before) != 1 || before[0].Sink != "slack" {
		t.Fatalf("outbox before the kill: %d rows, want the one slack trigger", len(before))
	}
	e.killCrashpager(t)
	// The restarted crashpager gets the same event again (same serial) and
	// must add nothing: no new row, the occurrence counted once.
	e.s.WaitListenerLogCount(t, "crashpager", `"message":"crashpager started"`, 2, 30*time.Second)
	e.s.WaitListenerLog(t, "crashpager", `"key":"`+exited+`".*"message":"alert already submitted"`, 30*time.Second)
	e.waitSent(t, st, exited, 30*time.Second)
	after := deliveries(t, st, exited)
	if len(after) != 1 || after[0].ID != before[0].ID {
		t.Errorf("outbox after the re-sent event: %d rows, want the same single row", len(after))
	}
	incs, err := st.OpenIncidents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range incs {
		if inc.Key == exited && inc.Count != 1 {
			t.Errorf("incident counts %d occurrences, want 1", inc.Count)
		}
	}
	if n := len(e.slack.Messages()); n != 1 {
		t.Errorf("slack got %d messages, want 1", n)
	}
}

// TestSpreeCountSurvivesRestarts: the restart spree (threshold 3) pages at
// the 4th unexpected exit even though crashpager itself was killed after
// the 2nd and after the 3rd: it counts the exits from the ledger, not from
// its memory.
func TestSpreeCountSurvivesRestarts(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Crashpager: "stable_for: 10m\nspree_threshold: 3\nspree_window: 5m", Programs: `[program:pricer]
command=sleep 100000
startsecs=0
autorestart=true
stopwaitsecs=2
`})
	exited, spree := key("pricer", alert.CondExited), key("pricer", alert.CondSpree)
	st := e.openStore(t)
	for n := 1; n <= 4; n++ {
		info := e.s.WaitProcessState(t, "pricer", supervisor.ProcessRunning, 30*time.Second)
		if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		testsupport.Eventually(t, 30*time.Second, fmt.Sprintf("exit %d in the ledger", n), func() (bool, string) {
			rows, err := st.ProcessedSince(context.Background(), exited, time.Time{})
			return err == nil && len(rows) >= n, fmt.Sprintf("%d rows, %v", len(rows), err)
		})
		if n < 4 && e.pd.Triggers(spree) > 0 {
			t.Fatalf("spree paged at exit %d, want at the 4th", n)
		}
		if n == 2 || n == 3 {
			e.killCrashpager(t)
		}
	}
	e.waitPD(t, 30*time.Second, "the spree page at the 4th exit", func() bool { return e.pd.Triggers(spree) > 0 })
}
