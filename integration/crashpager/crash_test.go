package crashpager_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// crashLoop is a program that exits unexpectedly (status 3) on each of its
// first n starts, counting them in a file, and then stays up.
const crashLoop = `[program:crasher]
command=/bin/sh -c 'n=$(cat {{.Dir}}/starts 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{.Dir}}/starts; if [ "$n" -le 20 ]; then echo "crash number $n" >&2; exit 3; fi; exec sleep 1000'
startsecs=0
autorestart=true
stopwaitsecs=2
stderr_logfile={{.Dir}}/crasher.err
`

func TestCrashLoopPagesOnceAndResolvesOnce(t *testing.T) {
	t.Parallel()
	// stable_for is longer than the window, so the window in which the last
	// exit falls has ended, and reported what it absorbed, before the
	// program counts as stable and the incident resolves.
	const window = 8 * time.Second
	e := start(t, scenario{
		Crashpager: "stable_for: 10s",
		Window:     window.String(),
		Programs:   crashLoop,
	})
	spree, exited := key("crasher", alert.CondSpree), key("crasher", alert.CondExited)
	began := time.Now()
	e.s.WaitLogCount(t, `exited: crasher \(exit status 3; not expected\)`, 20, 60*time.Second)
	loop := time.Since(began)
	e.waitPD(t, 90*time.Second, "the spree's resolve", func() bool { return e.pd.Resolves(spree) > 0 })

	// PagerDuty: one incident. Only critical alerts go there, and the spree
	// is the only critical one: every event carries its dedup key.
	evs := e.pd.Events()
	var triggers []alerttest.PagerDutyEvent
	total := 0
	for i, ev := range evs {
		if ev.DedupKey != spree {
			t.Errorf("PagerDuty event %d has dedup key %q, want %q", i, ev.DedupKey, spree)
		}
		if ev.Action == "trigger" {
			triggers = append(triggers, ev)
			total += pdCount(t, ev)
		}
	}
	if last := evs[len(evs)-1]; last.Action != "resolve" || e.pd.Resolves(spree) != 1 {
		t.Errorf("want exactly one resolve, last: got %d resolves, last event %s\n%s", e.pd.Resolves(spree), last.Action, pdEvents(e.pd))
	}
	if total != 20 {
		t.Errorf("PagerDuty trigger counts add up to %d, want the 20 exits\n%s", total, pdEvents(e.pd))
	}
	incident := triggers[0].Payload.Details()["incident_id"]
	for _, ev := range triggers {
		if id := ev.Payload.Details()["incident_id"]; id != incident {
			t.Errorf("trigger of incident %v, want one incident %v", id, incident)
		}
		if ev.Payload.Severity != "critical" {
			t.Errorf("spree severity %q, want critical", ev.Payload.Severity)
		}
	}
	if d := triggers[len(triggers)-1].Payload.Details()["details"].(map[string]any); d["restarts_in_window"] != "20" {
		t.Errorf("last trigger details %v: want restarts_in_window 20", d)
	}
	// At most one trigger per window: the loop lasted `loop`, so it spans
	// at most loop/window+1 windows, plus the one that reports at its end.
	if max := int(loop/window) + 2; len(triggers) > max {
		t.Errorf("%d PagerDuty triggers for a %s loop with a %s window, want at most %d", len(triggers), loop, window, max)
	}

	// Slack: warnings (exited) and critical (spree) go there, one message
	// per key and window, and one resolve each.
	st := e.openStore(t)
	for _, k := range []string{exited, spree} {
		e.waitSent(t, st, k, 30*time.Second)
		var last time.Time
		trig, res, count := 0, 0, 0
		for _, d := range deliveries(t, st, k) {
			if d.Sink != "slack" {
				continue
			}
			if d.Status != state.Sent {
				t.Errorf("%s: slack delivery %d is %s (%s)", k, d.ID, d.Status, d.LastError)
			}
			if d.Purpose == state.PurposeResolve {
				res++
				continue
			}
			trig++
			count += d.Notification.Count
			if !last.IsZero() && d.CreatedAt.Sub(last) < window-500*time.Millisecond {
				t.Errorf("%s: two slack notifications %s apart, within one %s window", k, d.CreatedAt.Sub(last), window)
			}
			last = d.CreatedAt
		}
		if res != 1 || count != 20 || trig == 0 {
			t.Errorf("%s: %d slack triggers counting %d exits and %d resolves, want counts adding to 20 and one resolve", k, trig, count, res)
		}
	}
	msgs := e.slack.Messages()
	if n := countMessages(msgs, "RESOLVED"); n != 2 {
		t.Errorf("%d RESOLVED slack messages, want 2 (exited and spree)", n)
	}
	// The details come from supervisord within a short deadline, so a busy
	// supervisord may leave them out of some alerts, not all.
	var texts strings.Builder
	for _, m := range msgs {
		texts.WriteString(m.Text + "\n" + m.BlockText() + "\n")
	}
	for _, want := range []string{"exit status 3", "crash number"} {
		if !strings.Contains(texts.String(), want) {
			t.Errorf("no slack message carries %q:\n%s", want, texts.String())
		}
	}
}

func countMessages(msgs []alerttest.SlackMessage, substr string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, substr) {
			n++
		}
	}
	return n
}

// waitSent waits until every outbox row of k is sent (or dead).
func (e *env) waitSent(t *testing.T, st *state.Store, k string, timeout time.Duration) {
	t.Helper()
	testsupport.Eventually(t, timeout, "outbox rows of "+k+" delivered", func() (bool, string) {
		ds := deliveries(t, st, k)
		for _, d := range ds {
			if d.Status == state.Pending || d.Status == state.Sending {
				return false, fmt.Sprintf("%+v", ds)
			}
		}
		return len(ds) > 0, "no outbox rows"
	})
}

// brokenUntilFixed is a program that fails at once until the file fixed
// exists in the scenario directory; with startretries=1 it goes FATAL.
const brokenUntilFixed = `[program:feed]
command=/bin/sh -c 'if [ -f {{.Dir}}/fixed ]; then exec sleep 1000; fi; echo "cannot connect to exchange" >&2; exit 1'
startsecs=1
startretries=1
autorestart=true
stopwaitsecs=2
stderr_logfile={{.Dir}}/feed.err
`

func TestFatalPagesCriticalAndResolvesAfterRecovery(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Crashpager: "stable_for: 2s", Programs: brokenUntilFixed})
	fatal := key("feed", alert.CondFatal)
	e.s.WaitProcessState(t, "feed", supervisor.ProcessFatal, 30*time.Second)
	e.waitPD(t, 30*time.Second, "the FATAL trigger", func() bool { return e.pd.Triggers(fatal) > 0 })
	ev, _ := e.pd.Last(fatal)
	if ev.Payload.Severity != "critical" || !strings.Contains(ev.Payload.Summary, "FATAL") {
		t.Errorf("trigger %q severity %q, want a critical FATAL page", ev.Payload.Summary, ev.Payload.Severity)
	}
	if tail, _ := ev.Payload.Details()["log_tail"].(string); !strings.Contains(tail, "cannot connect to exchange") {
		t.Errorf("trigger log tail %q lacks the program's stderr", tail)
	}

	// The fix: the same program, now able to start.
	writeFile(t, e.s.Path("fixed"), "")
	e.startProcess(t, "feed")
	e.s.WaitProcessState(t, "feed", supervisor.ProcessRunning, 30*time.Second)
	e.waitPD(t, 30*time.Second, "the FATAL resolve", func() bool { return e.pd.Resolves(fatal) > 0 })
	if n := e.pd.Triggers(fatal); n != 1 {
		t.Errorf("%d triggers for %s, want 1\n%s", n, fatal, pdEvents(e.pd))
	}
	if n := e.pd.Resolves(fatal); n != 1 {
		t.Errorf("%d resolves for %s, want 1", n, fatal)
	}
	if !e.slack.WaitUntil(15*time.Second, func() bool { return countMessages(e.slack.Messages(), "RESOLVED") == 1 }) {
		t.Errorf("slack got no RESOLVED message")
	}
}
