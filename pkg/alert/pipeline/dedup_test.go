package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/state"
)

func TestRouting(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		a    alert.Alert
		want []string
	}{
		{"critical to pagerduty and slack", baseConfig, exit("g", "risk", alert.Critical),
			[]string{"pd trigger pending 1", "slack trigger pending 1"}},
		{"error to slack", baseConfig, exit("g", "mm", alert.Error), []string{"slack trigger pending 1"}},
		{"info to log", baseConfig, exit("g", "mm", alert.Info), []string{"log trigger pending 1"}},
		{"configured route with continue", baseConfig + `
routes:
  - {match: {process: "strategies:*"}, sinks: [log], continue: true}
  - {match: {severity: [critical, error]}, sinks: [pd]}
  - {sinks: [slack]}`, exit("strategies", "mm", alert.Error), []string{"log trigger pending 1", "pd trigger pending 1"}},
		{"configured route, first match wins", baseConfig + `
routes:
  - {match: {group: feeds}, sinks: [slack]}
  - {sinks: [pd]}`, exit("feeds", "md", alert.Critical), []string{"slack trigger pending 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			h.submit(tc.a)
			if got := summary(h.rows()); !equal(got, tc.want) {
				t.Errorf("rows = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNoRouteLogsTheAlert(t *testing.T) {
	h := newHarness(t, baseConfig+"routes: [{match: {severity: critical}, sinks: [pd]}]")
	h.submit(exit("g", "mm", alert.Warning))
	if rows := h.rows(); len(rows) != 0 {
		t.Fatalf("rows = %q, want none", summary(rows))
	}
	if !strings.Contains(h.logs.String(), `"message":"notification routed to no sink"`) ||
		!strings.Contains(h.logs.String(), `"summary":"mm exited unexpectedly"`) {
		t.Errorf("unrouted alert not logged whole:\n%s", h.logs)
	}
}

// TestCrashLoopAggregates is the acceptance case: 20 exits of one program
// inside one window give exactly one trigger per sink in that window, and
// the counts of all trigger notifications add up to 20.
func TestCrashLoopAggregates(t *testing.T) {
	tests := []struct {
		name         string
		withResolves bool          // the program comes back RUNNING between exits
		reportAt     time.Duration // when the absorbed exits are reported
		flapping     bool
	}{
		{"exits only", false, 5 * time.Minute, false},
		// Opening and resolving 40 incidents is flapping: the report waits
		// for the 15 min flap window and is a trigger+resolve pair.
		{"exit and recover each time", true, 15 * time.Minute, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, baseConfig)
			a := exit("strategies", "mm", alert.Critical)
			for i := 0; i < 20; i++ {
				a.SourceID = fmt.Sprintf("sv/pool/%d", i)
				h.submit(a)
				h.markSent() // a healthy sender delivers at once
				if tc.withResolves {
					r := resolved(a)
					r.SourceID += "-r"
					h.submit(r)
					h.markSent()
				}
				h.clock.Advance(10 * time.Second) // 20 exits in 200 s, inside the 5 min window
				h.sweep()
			}
			for _, sink := range []string{"pd", "slack"} {
				if n := len(triggers(h.rows(), sink)); n != 1 {
					t.Fatalf("%s triggers within the window = %d, want 1: %q", sink, n, summary(h.rows()))
				}
			}
			h.clock.Set(t0.Add(tc.reportAt - time.Second))
			h.sweep()
			if n := len(triggers(h.rows(), "pd")); n != 1 {
				t.Fatalf("reported before the window ended: %q", summary(h.rows()))
			}
			h.clock.Set(t0.Add(tc.reportAt))
			h.sweep()
			for _, sink := range []string{"pd", "slack"} {
				ts := triggers(h.rows(), sink)
				total := 0
				for _, d := range ts {
					total += d.Notification.Count
				}
				if total != 20 || len(ts) != 2 {
					t.Errorf("%s: %d triggers counting %d, want 2 counting 20: %q", sink, len(ts), total, summary(h.rows()))
				}
				if last := ts[len(ts)-1]; last.Notification.Flapping != tc.flapping {
					t.Errorf("%s: report flapping = %v, want %v", sink, last.Notification.Flapping, tc.flapping)
				}
			}
			if tc.withResolves {
				rows := h.rows()
				if last := rows[len(rows)-1]; last.Purpose != state.PurposeResolve {
					t.Errorf("held occurrences of a resolved incident not followed by its resolve: %q", summary(rows))
				}
			}
		})
	}
}

// triggers returns the sink's trigger rows that were not cancelled.
func triggers(rows []*state.Delivery, sink string) []*state.Delivery {
	var out []*state.Delivery
	for _, d := range rows {
		if d.Sink == sink && d.Purpose != state.PurposeResolve && d.Status != state.Cancelled {
			out = append(out, d)
		}
	}
	return out
}

func TestRepeatWindowAndReminder(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := exit("g", "mm", alert.Error)
	h.submit(a)
	h.clock.Advance(time.Minute)
	h.submit(a)
	h.submit(a)
	h.sweep() // nothing due yet
	want := []string{"slack trigger pending 1"}
	if got := summary(h.rows()); !equal(got, want) {
		t.Fatalf("inside the window: %q, want %q", got, want)
	}
	h.clock.Advance(4 * time.Minute) // the window ends
	h.sweep()
	want = append(want, "slack repeat pending 2")
	if got := summary(h.rows()); !equal(got, want) {
		t.Fatalf("after the window: %q, want %q", got, want)
	}
	// An occurrence after the window notifies at once.
	h.clock.Advance(6 * time.Minute)
	h.submit(a)
	want = append(want, "slack repeat pending 1")
	if got := summary(h.rows()); !equal(got, want) {
		t.Fatalf("late occurrence: %q, want %q", got, want)
	}
	// Quiet for an hour after the last notification: a reminder with the total.
	h.clock.Advance(59 * time.Minute)
	h.sweep()
	if n := len(h.rows()); n != 3 {
		t.Fatalf("reminder before the hour: %q", summary(h.rows()))
	}
	h.clock.Advance(time.Minute)
	h.sweep()
	rows := h.rows()
	last := rows[len(rows)-1]
	if last.Purpose != state.PurposeReminder || !last.Notification.Reminder || last.Notification.Count != 4 {
		t.Fatalf("reminder row = %+v", last)
	}
	h.sweep()
	if n := len(h.rows()); n != 4 {
		t.Errorf("second sweep queued another reminder: %q", summary(h.rows()))
	}
}

func TestUpgradeAndMergeNotifyAtOnce(t *testing.T) {
	h := newHarness(t, baseConfig)
	w := exit("g", "risk", alert.Warning)
	w.Details = map[string]string{"exit_status": "1"}
	h.submit(w)
	first := h.incident(w.Key)

	c := w
	c.Severity, c.Details = alert.Critical, map[string]string{"rss_mb": "900"}
	h.clock.Advance(time.Second)
	h.submit(c)

	// haltguard reports the same key with what it did: merged, notified at once.
	hg := c
	hg.Listener, hg.Action, hg.Details = "haltguard", "halted trading", map[string]string{"stopped": "strategies:*"}
	h.clock.Advance(time.Second)
	h.submit(hg)
	// The same report again adds nothing new.
	h.submit(hg)

	want := []string{
		"slack trigger pending 1",
		"pd update pending 1", "slack update pending 1", // warning -> critical
		"pd update pending 0", "slack update pending 0", // new action, the same occurrence
	}
	rows := h.rows()
	if got := summary(rows); !equal(got, want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	inc := h.incident(w.Key)
	if inc.ID != first.ID {
		t.Errorf("merge opened a new incident %s, want %s", inc.ID, first.ID)
	}
	for _, d := range rows {
		if d.Notification.IncidentID != first.ID {
			t.Errorf("row %d for incident %s, want %s", d.ID, d.Notification.IncidentID, first.ID)
		}
	}
	n := rows[len(rows)-1].Notification
	if n.Listener != "crashpager,haltguard" || n.Action != "halted trading" || n.Severity != alert.Critical ||
		n.Details["exit_status"] != "1" || n.Details["rss_mb"] != "900" || n.Details["stopped"] != "strategies:*" {
		t.Errorf("merged notification = %+v", n)
	}
	if inc.Count != 2 || inc.Listeners["crashpager"] != 2 || inc.Listeners["haltguard"] != 2 {
		t.Errorf("incident count %d listeners %v, want 2 (the most one listener reported)", inc.Count, inc.Listeners)
	}
}

func TestIdempotentBySourceID(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := exit("g", "mm", alert.Error)
	a.SourceID = "sv1/crashpager/42"
	h.submit(a)
	h.submit(a) // supervisord re-sent the event
	other := exit("g", "md", alert.Error)
	other.SourceID = a.SourceID // same event, another key: not a duplicate
	h.submit(other)
	if got := summary(h.rows()); len(got) != 2 {
		t.Fatalf("rows = %q, want one per key", got)
	}
	if inc := h.incident(a.Key); inc.Count != 1 {
		t.Errorf("incident count = %d after a re-sent event, want 1", inc.Count)
	}
}

func TestResolveLifecycle(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := exit("g", "risk", alert.Critical)
	h.submit(a)
	first := h.incident(a.Key).ID
	rows := h.rows()
	// The pd trigger was delivered, the slack one never attempted.
	err := h.store.Update(t.Context(), func(tx *state.Tx) error {
		if _, err := tx.AcquireLease("pd", "x", 1, t0, t0.Add(time.Minute)); err != nil {
			return err
		}
		if _, err := tx.Claim("pd", rows[0].ID, "x", t0, t0.Add(time.Minute)); err != nil {
			return err
		}
		return tx.MarkSent(rows[0].ID, "", t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.submit(resolved(a))
	h.submit(resolved(a)) // a second resolve is a no-op
	// Critical: the slack trigger not yet attempted is still sent, then its
	// resolve (a lower severity is cancelled instead: see
	// TestHeldIncidentReportedWhenWindowEnds).
	want := []string{"pd trigger sent 1", "slack trigger pending 1", "pd resolve pending 1", "slack resolve pending 1"}
	if got := summary(h.rows()); !equal(got, want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	// Firing again later opens a new incident with a new page.
	h.clock.Advance(10 * time.Minute)
	h.submit(a)
	second := h.incident(a.Key).ID
	if second == first {
		t.Errorf("re-fire reused incident %s", first)
	}
	rows = h.rows()
	if got := summary(rows[4:]); !equal(got, []string{"pd trigger pending 1", "slack trigger pending 1"}) {
		t.Errorf("re-fire rows = %q", got)
	}
}

func TestHeldIncidentReportedWhenWindowEnds(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := exit("g", "mm", alert.Error)
	h.submit(a)
	h.submit(resolved(a)) // slack trigger never attempted: both cancelled
	h.clock.Advance(time.Minute)
	h.submit(a) // a new incident inside the window: held
	second := h.incident(a.Key).ID
	h.clock.Advance(time.Minute)
	h.submit(resolved(a)) // it was never notified: resolves silently
	want := []string{"slack trigger cancelled 1", "slack resolve cancelled 1"}
	if got := summary(h.rows()); !equal(got, want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	h.clock.Set(t0.Add(5 * time.Minute))
	h.sweep()
	want = append(want, "slack trigger pending 1", "slack resolve pending 1")
	rows := h.rows()
	if got := summary(rows); !equal(got, want) {
		t.Fatalf("after the window: %q, want %q", got, want)
	}
	if rows[2].Notification.IncidentID != second || rows[3].Notification.IncidentID != second {
		t.Errorf("held report not about incident %s: %+v", second, rows[2].Notification)
	}
}

func TestFlapping(t *testing.T) {
	h := newHarness(t, baseConfig) // flap: 6 changes in 15m; window 5m
	a := exit("g", "mm", alert.Error)
	cycle := func() {
		h.submit(a)
		h.clock.Advance(30 * time.Second)
		h.submit(resolved(a))
		h.clock.Advance(30 * time.Second)
	}
	for i := 0; i < 3; i++ { // 6 changes in 3 minutes
		cycle()
	}
	h.submit(a) // 7th change: flapping
	h.clock.Set(t0.Add(5*time.Minute + 30*time.Second))
	h.sweep() // past the 5 min window, but a flapping key waits out the 15 min flap window
	var triggers []*state.Delivery
	for _, d := range h.rows() {
		if d.Purpose != state.PurposeResolve && d.Status != state.Cancelled {
			triggers = append(triggers, d)
		}
	}
	if len(triggers) != 0 {
		t.Fatalf("flapping key notified inside the flap window: %q", summary(h.rows()))
	}
	h.clock.Set(t0.Add(15 * time.Minute))
	h.sweep()
	rows := h.rows()
	last := rows[len(rows)-1]
	if last.Purpose != state.PurposeTrigger || !last.Notification.Flapping || last.Notification.Count != 3 {
		t.Errorf("flap report = %s count %d flapping %v, want a flapping trigger counting the 3 held occurrences",
			last.Purpose, last.Notification.Count, last.Notification.Flapping)
	}
}

func TestQuietHoursInNamedZone(t *testing.T) {
	cfg := baseConfig + `
quiet_hours:
  timezone: America/New_York
  windows: [{days: mon-fri, start: "17:00", end: "08:00"}]`
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name string
		at   time.Time
		a    alert.Alert
		want []string
		sev  alert.Severity
	}{
		{"trading hours: error to slack", t0, exit("g", "mm", alert.Error), []string{"slack trigger pending 1"}, alert.Error},
		{"evening: error lowered to warning", time.Date(2026, 3, 2, 18, 0, 0, 0, ny), exit("g", "mm", alert.Error),
			[]string{"slack trigger pending 1"}, alert.Warning},
		{"evening: warning lowered to info goes to log", time.Date(2026, 3, 2, 18, 0, 0, 0, ny), exit("g", "mm", alert.Warning),
			[]string{"log trigger pending 1"}, alert.Info},
		{"early morning: critical stays critical", time.Date(2026, 3, 3, 7, 0, 0, 0, ny), exit("g", "mm", alert.Critical),
			[]string{"pd trigger pending 1", "slack trigger pending 1"}, alert.Critical},
		{"evening: halt never lowered", time.Date(2026, 3, 2, 18, 0, 0, 0, ny),
			alert.Alert{Kind: alert.Trigger, Condition: alert.CondHalt, Severity: alert.Error, Summary: "halted"},
			[]string{"slack trigger pending 1"}, alert.Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, cfg)
			h.clock.Set(tc.at)
			h.submit(tc.a)
			rows := h.rows()
			if got := summary(rows); !equal(got, tc.want) {
				t.Fatalf("rows = %q, want %q", got, tc.want)
			}
			n := rows[0].Notification
			if n.Severity != tc.sev {
				t.Errorf("severity = %s, want %s", n.Severity, tc.sev)
			}
			if lowered := n.Details["quiet_hours"] != ""; lowered != (tc.sev != tc.a.Severity) {
				t.Errorf("quiet_hours detail = %q", n.Details["quiet_hours"])
			}
		})
	}
}

func TestMaintenance(t *testing.T) {
	cfg := baseConfig + `
maintenance:
  - {name: deploy, from: 2026-03-02T15:00:00Z, until: 2026-03-02T15:30:00Z, groups: [strategies]}`
	t.Run("recorded, not sent, and reported if still open after", func(t *testing.T) {
		h := newHarness(t, cfg)
		a := exit("strategies", "mm", alert.Critical)
		for i := 0; i < 3; i++ {
			h.submit(a)
		}
		h.clock.Advance(10 * time.Minute)
		h.sweep()
		if rows := h.rows(); len(rows) != 0 {
			t.Fatalf("rows during maintenance = %q", summary(rows))
		}
		if inc := h.incident(a.Key); inc.Count != 3 {
			t.Errorf("ledger count = %d, want 3", inc.Count)
		}
		h.clock.Set(t0.Add(30 * time.Minute))
		h.sweep()
		if got := summary(h.rows()); !equal(got, []string{"pd trigger pending 3", "slack trigger pending 3"}) {
			t.Errorf("after maintenance: %q", got)
		}
	})
	t.Run("resolved during maintenance: nothing ever sent", func(t *testing.T) {
		h := newHarness(t, cfg)
		a := exit("strategies", "mm", alert.Critical)
		h.submit(a)
		h.submit(resolved(a))
		h.clock.Set(t0.Add(time.Hour))
		h.sweep()
		if rows := h.rows(); len(rows) != 0 {
			t.Errorf("rows = %q", summary(rows))
		}
	})
	t.Run("other groups and halts are not held", func(t *testing.T) {
		h := newHarness(t, cfg)
		h.submit(exit("feeds", "md", alert.Error))
		h.submit(alert.Alert{Kind: alert.Trigger, Group: "strategies", Program: "mm", Condition: alert.CondHalt,
			Severity: alert.Critical, Summary: "halted"})
		want := []string{"slack trigger pending 1", "pd trigger pending 1", "slack trigger pending 1"}
		if got := summary(h.rows()); !equal(got, want) {
			t.Errorf("rows = %q, want %q", got, want)
		}
	})
	t.Run("a halt joining a held FATAL incident is sent", func(t *testing.T) {
		h := newHarness(t, cfg)
		fatal := exit("strategies", "mm", alert.Critical)
		fatal.Condition, fatal.Key = alert.CondFatal, alert.Key("h1", "strategies:mm", alert.CondFatal)
		h.submit(fatal)
		if rows := h.rows(); len(rows) != 0 {
			t.Fatalf("FATAL in maintenance queued %q", summary(rows))
		}
		// haltguard reports the halt under the FATAL's key: one incident.
		halt := fatal
		halt.Condition, halt.Listener, halt.Action, halt.Summary = alert.CondHalt, "haltguard", "halted trading", "trading halted"
		h.submit(halt)
		want := []string{"pd trigger pending 1", "slack trigger pending 1"}
		if got := summary(h.rows()); !equal(got, want) {
			t.Errorf("rows = %q, want %q", got, want)
		}
	})
}

func TestInvalidAlertRejected(t *testing.T) {
	h := newHarness(t, baseConfig)
	err := h.p.Submit(t.Context(), &alert.Alert{Kind: "bogus", Condition: alert.CondExited, Summary: "x"})
	if err == nil || !strings.Contains(err.Error(), `kind "bogus"`) {
		t.Errorf("Submit = %v, want a kind error", err)
	}
	if !strings.Contains(h.logs.String(), "alert not recorded") {
		t.Errorf("rejected alert not logged:\n%s", h.logs)
	}
}

// TestSecondListenerAddsNoOccurrence: the same exit reported by a second
// listener after the window is not a new occurrence, so it sends nothing.
func TestSecondListenerAddsNoOccurrence(t *testing.T) {
	h := newHarness(t, baseConfig)
	a := exit("g", "mm", alert.Error)
	h.submit(a)
	h.clock.Advance(6 * time.Minute)
	b := a
	b.Listener = "healthprobe"
	h.submit(b)
	h.sweep()
	if got := summary(h.rows()); !equal(got, []string{"slack trigger pending 1"}) {
		t.Errorf("rows = %q, want only the first trigger", got)
	}
	if inc := h.incident(a.Key); inc.Count != 1 || len(inc.Listeners) != 2 {
		t.Errorf("incident count %d listeners %v", inc.Count, inc.Listeners)
	}
}

func TestHaltKeepsSharedIncidentOpen(t *testing.T) {
	h := newHarness(t, baseConfig)
	fatal := exit("risk", "risk_manager", alert.Critical)
	fatal.Condition = alert.CondFatal
	h.submit(fatal)
	halt := fatal
	halt.Condition, halt.Listener, halt.Action = alert.CondHalt, "haltguard", "halted trading"
	halt.Details = map[string]string{alert.DetailHaltReason: "risk:risk_manager FATAL"}
	h.clock.Advance(time.Second)
	h.submit(halt)
	before := len(h.rows())

	// risk_manager recovers: crashpager's resolve must not end the halt's page.
	h.clock.Advance(time.Minute)
	h.submit(resolved(fatal))
	if inc := h.incident(fatal.Key); inc == nil || inc.Status != state.IncidentOpen {
		t.Fatalf("incident after the program's recovery = %+v, want still open", inc)
	}
	if got := len(h.rows()); got != before {
		t.Fatalf("the program's resolve queued %d rows: %q", got-before, summary(h.rows()))
	}

	// haltguard resume resolves it, once per sink.
	h.submit(resolved(halt))
	var resolves int
	for _, d := range h.rows() {
		if d.Purpose == state.PurposeResolve {
			resolves++
		}
	}
	if resolves == 0 {
		t.Fatalf("resume queued no resolve: %q", summary(h.rows()))
	}
	err := h.store.View(context.Background(), func(tx *state.Tx) error {
		inc, err := tx.OpenIncident(fatal.Key)
		if inc != nil {
			t.Errorf("incident still open after the resume: %+v", inc)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUrgentNeverCancelledOrHeld: a critical alert, and a safety one (a
// halt), whose condition clears before its trigger reached a sink still
// goes, followed by its resolve; and a second halt inside the dedup window,
// flapping or not, notifies at once as its own incident.
func TestUrgentNeverCancelledOrHeld(t *testing.T) {
	t.Run("critical resolved before delivery", func(t *testing.T) {
		h := newHarness(t, baseConfig)
		a := exit("g", "risk", alert.Critical)
		h.submit(a)
		h.submit(resolved(a))
		want := []string{"pd trigger pending 1", "slack trigger pending 1", "pd resolve pending 1", "slack resolve pending 1"}
		if got := summary(h.rows()); !equal(got, want) {
			t.Fatalf("rows = %q, want %q", got, want)
		}
	})
	t.Run("halts", func(t *testing.T) {
		h := newHarness(t, baseConfig)
		halt := func(trace string) alert.Alert {
			return alert.Alert{Kind: alert.Trigger, Host: "h1", Condition: alert.CondHalt, Severity: alert.Critical,
				Summary: "HALTED trading " + trace, Key: alert.Key("h1", "", alert.CondHalt), TraceID: trace}
		}
		// Eight halts and resumes in two minutes: more than the flap
		// threshold, all inside one dedup window.
		for i := range 8 {
			a := halt(fmt.Sprint("t", i))
			h.submit(a)
			h.clock.Advance(5 * time.Second)
			h.submit(resolved(a))
			h.clock.Advance(10 * time.Second)
		}
		triggers, resolves := 0, 0
		for _, r := range h.rows() {
			switch {
			case r.Sink != "pd" || r.Status == state.Cancelled:
			case r.Purpose == state.PurposeResolve:
				resolves++
			default:
				triggers++
			}
		}
		if triggers != 8 || resolves != 8 {
			t.Errorf("pd got %d halt triggers and %d resolves queued, want 8 and 8:\n%q", triggers, resolves, summary(h.rows()))
		}
	})
}
