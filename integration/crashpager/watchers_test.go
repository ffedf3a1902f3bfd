package crashpager_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/eventrecord"
	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

func TestListenerExitPagesAndResolves(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{
		Crashpager: "stable_for: 2s\nlisteners: [eventlog]",
		Programs:   harness.Listener{Name: "eventlog", Command: `{{bin "./listeners/eventlog"}}`, Events: "TICK_5"}.Section(),
	})
	lk := key("eventlog", alert.CondListener)
	pid := e.s.WaitProcessState(t, "eventlog", supervisor.ProcessRunning, 30*time.Second).PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.waitPD(t, 30*time.Second, "the listener page", func() bool { return e.pd.Triggers(lk) > 0 })
	ev, _ := e.pd.Last(lk)
	if ev.Payload.Severity != "critical" || !strings.Contains(ev.Payload.Summary, "superguard listener eventlog:eventlog exited") {
		t.Errorf("page %q (%s), want a critical listener page", ev.Payload.Summary, ev.Payload.Severity)
	}
	e.waitPD(t, 30*time.Second, "the resolve once eventlog runs again", func() bool { return e.pd.Resolves(lk) > 0 })
	if n := e.pd.Triggers(lk); n != 1 {
		t.Errorf("%d triggers, want 1\n%s", n, pdEvents(e.pd))
	}
}

// TestStuckListenerIsReportedLate runs a testlistener that handles TICKs
// until it blocks inside its handler on the first PROCESS_STATE_EXITED: it
// stays RUNNING for supervisord but acknowledges nothing more. testlistener
// does not record heartbeats itself, so the test does it for it, from its
// record file, the way every superguard listener records its TICKs.
func TestStuckListenerIsReportedLate(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{
		// tl handles TICK_5: a heartbeat more than two periods old is late.
		Crashpager: "stable_for: 1s\nlisteners: [tl]\nheartbeat_period: 5s\nlate_periods: 2",
		Programs: harness.Listener{Name: "tl", Events: "TICK_5,PROCESS_STATE_EXITED",
			Command: `{{bin "./integration/cmd/testlistener"}} -record {{.Dir}}/tl.jsonl -state-file {{.Dir}}/tl.state`,
			Extra:   []string{`environment=SUPERGUARD_TEST_PAUSE="PROCESS_STATE_EXITED"`}}.Section() + `

[program:trip]
command=/bin/sh -c 'while [ ! -f {{.Dir}}/trip ]; do sleep 0.1; done; exit 3'
startsecs=0
autorestart=false
stderr_logfile={{.Dir}}/trip.err
`,
	})
	lk := key("tl", alert.CondListener)
	st := e.openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { mirrorHeartbeats(ctx, t, st, "tl", e.s.Path("tl.jsonl")) })

	// Healthy: TICKs handled, heartbeats fresh, no page.
	testsupport.Eventually(t, 60*time.Second, "four heartbeats of tl", func() (bool, string) {
		recs, _ := eventrecord.ReadFile(e.s.Path("tl.jsonl"))
		return len(eventrecord.Events(recs, "TICK_5")) >= 4, ""
	})
	if n := e.pd.Triggers(lk); n != 0 {
		t.Fatalf("tl paged while healthy:\n%s", pdEvents(e.pd))
	}
	// Stuck: blocked in its handler, still RUNNING.
	writeFile(t, e.s.Path("trip"), "")
	e.waitPD(t, 60*time.Second, "the late-listener page", func() bool { return e.pd.Triggers(lk) > 0 })
	ev, _ := e.pd.Last(lk)
	if !strings.Contains(ev.Payload.Summary, "has not handled a TICK") {
		t.Errorf("page %q, want a late heartbeat", ev.Payload.Summary)
	}
	if i := e.info(t, "tl"); i.State != supervisor.ProcessRunning {
		t.Errorf("tl is %s: the scenario needs it stuck but RUNNING", i.StateName)
	}
	// Unstuck by a restart (the re-sent EXITED is handled normally now),
	// heartbeats come back and the incident resolves.
	if err := syscall.Kill(e.info(t, "tl").PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.waitPD(t, 60*time.Second, "the resolve", func() bool { return e.pd.Resolves(lk) > 0 })
	// Lateness and the kill are one incident: the kill's report is absorbed
	// into it (and may show up as a repeat carrying its count).
	if ids := incidentIDs(e.pd.Events(), lk); len(ids) != 1 || e.pd.Resolves(lk) != 1 {
		t.Errorf("incidents %v and %d resolves for %s, want one incident resolved once\n%s", ids, e.pd.Resolves(lk), lk, pdEvents(e.pd))
	}
}

// mirrorHeartbeats records a heartbeat for listener each time its record
// file shows a TICK it acknowledged.
func mirrorHeartbeats(ctx context.Context, t *testing.T, st *state.Store, listener, record string) {
	seen := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		recs, err := eventrecord.ReadFile(record)
		if err != nil {
			continue
		}
		ticks := eventrecord.Events(recs, "TICK_5")
		for _, r := range ticks[min(seen, len(ticks)):] {
			if r.Answer != eventrecord.AnswerOK {
				continue
			}
			if err := st.Beat(ctx, listener, r.Time, r.PID, time.Now()); err != nil && ctx.Err() == nil {
				t.Errorf("record heartbeat: %v", err)
			}
		}
		seen = len(ticks)
	}
}

func TestDeadManPingsArrive(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		hits []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.Method+" "+r.URL.Path)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	e := start(t, scenario{
		Crashpager: "deadman: {url_env: DM_URL, method: POST, interval: 1s, timeout: 1s}",
		Env:        []string{"DM_URL=" + srv.URL + "/ping/" + canaryDeadMan},
	})
	testsupport.Eventually(t, 30*time.Second, "three dead-man pings", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(hits) >= 3, strings.Join(hits, "\n")
	})
	mu.Lock()
	defer mu.Unlock()
	for _, h := range hits {
		if h != "POST /ping/"+canaryDeadMan {
			t.Errorf("ping %q, want POST /ping/<token>", h)
		}
	}
	if log := e.s.ReadListenerStderr("crashpager"); strings.Contains(log, canaryDeadMan) {
		t.Errorf("crashpager's log shows the dead-man URL")
	}
}

// TestDeadManSilentWhileNothingDelivers: when every sink has failed for
// longer than watchdog.degraded_after (PagerDuty down, an alert waiting),
// the dead-man pings stop, so the external monitor sees the host unhealthy
// instead of "alive"; they come back once alerts are delivered again.
func TestDeadManSilentWhileNothingDelivers(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	e := start(t, scenario{
		Crashpager: "deadman: {url_env: DM_URL, interval: 1s, timeout: 1s}\nwatchdog: {degraded_after: 2s}",
		Sinks:      "  - {name: pd, type: pagerduty, routing_key_env: PD_KEY, events_url: \"{{.Vars.pd}}\", timeout: 1s}\n",
		Routes:     "  - sinks: [pd]\n",
		Env:        []string{"DM_URL=" + srv.URL + "/ping"},
		Programs: `[program:quoter]
command=sleep 100000
startsecs=0
autorestart=true
`,
		NoSlackWebhook: true,
	})
	testsupport.Eventually(t, 30*time.Second, "dead-man pings", func() (bool, string) { return hits.Load() >= 2, "" })
	e.pd.FailAll(alerttest.Fault{Status: 503})
	info := e.info(t, "quoter")
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.s.WaitListenerLog(t, "crashpager", `dead-man ping withheld: alerts cannot be stored or delivered`, 30*time.Second)
	silent := hits.Load()
	e.s.WaitListenerLogCount(t, "crashpager", `dead-man ping still withheld`, 2, 30*time.Second)
	if n := hits.Load() - silent; n > 1 { // one may have been in flight
		t.Errorf("%d pings while nothing could be delivered", n)
	}
	e.pd.Heal()
	e.s.WaitListenerLog(t, "crashpager", `dead-man ping resumed`, 60*time.Second)
}
