package route

import (
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/session"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/config/configtest"
)

func TestRoute(t *testing.T) {
	c := configtest.Parse(t, `
sinks:
  - {name: oncall, type: pagerduty, routing_key_env: PD_KEY}
  - {name: bot, type: slack, token_env: SLACK_BOT, channel: "#ops"}
  - {name: log, type: log}
routes:
  - {match: {condition: [halt, budget]}, sinks: [oncall, bot]}
  - {match: {severity: critical, processes: ["strategies:*"]}, sinks: [oncall], continue: true}
  - {match: {severity: [critical, error, warning]}, sinks: [bot]}
  - {sinks: [log]}`)
	procs := configtest.Parse(t, `
routes:
  - {match: {processes: ["risk_manager", "*:md_*"]}, sinks: [log]}
  - {match: {severity: info, group: feeds, program: "fix_*"}, sinks: [log]}`)
	defaults := configtest.Parse(t, `sinks:
  - {name: pd, type: pagerduty, routing_key_env: PD_KEY}
  - {name: s1, type: slack, webhook_url_env: SLACK_HOOK}
  - {name: s2, type: slack, webhook_url_env: SLACK_HOOK}
  - {name: am, type: alertmanager, urls: ["http://am:9093"]}
  - {name: log, type: log}`)
	onlyPD := configtest.Parse(t, `sinks: [{name: pd, type: pagerduty, routing_key_env: PD_KEY}]`)
	noSinks := configtest.Parse(t, "")
	a := func(sev alert.Severity, cond alert.Condition, group, program string) *alert.Alert {
		return &alert.Alert{Severity: sev, Condition: cond, Group: group, Program: program, Listener: "crashpager"}
	}
	tests := []struct {
		name  string
		cfg   *config.Config
		alert *alert.Alert
		want  []string
	}{
		{"halt first match", c, a(alert.Warning, alert.CondHalt, "", ""), []string{"oncall", "bot"}},
		{"critical strategy continues", c, a(alert.Critical, alert.CondFatal, "strategies", "mm"), []string{"oncall", "bot"}},
		{"critical elsewhere", c, a(alert.Critical, alert.CondFatal, "feeds", "md"), []string{"bot"}},
		{"ungrouped program is its own group", c, a(alert.Critical, alert.CondFatal, "", "strategies"), []string{"oncall", "bot"}},
		{"info falls through", c, a(alert.Info, alert.CondExited, "g", "p"), []string{"log"}},
		{"default critical", defaults, a(alert.Critical, alert.CondFatal, "g", "p"), []string{"pd", "s1", "s2", "am"}},
		{"default error", defaults, a(alert.Error, alert.CondExited, "g", "p"), []string{"s1", "s2", "am"}},
		{"default warning", defaults, a(alert.Warning, alert.CondMemory, "g", "p"), []string{"s1", "s2", "am"}},
		{"default info", defaults, a(alert.Info, alert.CondExited, "g", "p"), []string{"log", "am"}},
		{"only pagerduty, critical", onlyPD, a(alert.Critical, alert.CondFatal, "g", "p"), []string{"pd"}},
		{"only pagerduty, warning goes nowhere", onlyPD, a(alert.Warning, alert.CondFatal, "g", "p"), nil},
		{"no sinks configured", noSinks, a(alert.Critical, alert.CondFatal, "g", "p"), []string{"log"}},
		{"processes: bare name", procs, a(alert.Error, alert.CondFatal, "", "risk_manager"), []string{"log"}},
		{"processes: program in any group", procs, a(alert.Error, alert.CondFatal, "feeds", "md_cme"), []string{"log"}},
		{"processes: no match", procs, a(alert.Error, alert.CondFatal, "feeds", "fix_cme"), nil},
		{"deprecated group and program must both match", procs, a(alert.Info, alert.CondFatal, "feeds", "fix_cme"), []string{"log"}},
		{"deprecated group and program, other group", procs, a(alert.Info, alert.CondFatal, "gw", "fix_cme"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Sinks(tc.cfg, tc.alert)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("Route = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQuietHoursInNamedZone(t *testing.T) {
	c := configtest.Parse(t, `quiet_hours:
  timezone: America/New_York
  windows:
    - {days: mon-fri, start: "17:00", end: "08:00"}
    - {days: [sat, sun], start: "00:00", end: "24:00"}`)
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"monday trading hours", time.Date(2026, 3, 2, 10, 0, 0, 0, ny), false},
		{"monday evening", time.Date(2026, 3, 2, 17, 0, 0, 0, ny), true},
		{"tuesday before open, wrapped from monday", time.Date(2026, 3, 3, 7, 59, 0, 0, ny), true},
		{"tuesday open", time.Date(2026, 3, 3, 8, 0, 0, 0, ny), false},
		{"saturday noon", time.Date(2026, 3, 7, 12, 0, 0, 0, ny), true},
		{"monday 07:00 wraps from sunday's full day? no: sunday ends 24:00", time.Date(2026, 3, 9, 7, 0, 0, 0, ny), false},
		// 13:30 UTC is 08:30 in New York in winter (EST) but 09:30 in summer (EDT).
		{"13:30 UTC in January is 08:30 EST", time.Date(2026, 1, 6, 12, 30, 0, 0, time.UTC), true},
		{"12:30 UTC in July is 08:30 EDT", time.Date(2026, 7, 7, 12, 30, 0, 0, time.UTC), false},
		{"12:30 UTC in January is 07:30 EST", time.Date(2026, 1, 6, 12, 30, 0, 0, time.UTC).Add(-time.Hour), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quiet(c, tc.at, nil); got != tc.want {
				t.Errorf("Quiet(%v) = %v, want %v", tc.at.In(ny), got, tc.want)
			}
		})
	}
	if Quiet(configtest.Parse(t, ""), time.Now(), nil) {
		t.Errorf("no quiet_hours: Quiet = true")
	}
}

// TestQuietBySession: quiet hours that name sessions follow the published
// timeline; without one (marketclock not running) they do not apply.
func TestQuietBySession(t *testing.T) {
	c := configtest.Parse(t, "quiet_hours:\n  session: [closed, holiday]\n")
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	tl := &session.Timeline{Exchange: "XNYS", Until: t0.Add(48 * time.Hour), Spans: []session.Span{
		{From: t0, State: session.Holiday, Day: session.HolidayDay},
		{From: t0.Add(24 * time.Hour), State: session.Closed, Day: session.EarlyClose},
		{From: t0.Add(38*time.Hour + 30*time.Minute), State: session.Open, Day: session.EarlyClose},
		{From: t0.Add(42 * time.Hour), State: session.Closed, Day: session.EarlyClose},
	}}
	for _, tc := range []struct {
		at   time.Time
		tl   *session.Timeline
		want bool
	}{
		{t0.Add(12 * time.Hour), tl, true},   // Thanksgiving
		{t0.Add(39 * time.Hour), tl, false},  // open on the early-close day
		{t0.Add(43 * time.Hour), tl, true},   // after the early close
		{t0.Add(49 * time.Hour), tl, false},  // past the horizon: unknown, not quiet
		{t0.Add(12 * time.Hour), nil, false}, // nothing published
	} {
		if got := Quiet(c, tc.at, tc.tl); got != tc.want {
			t.Errorf("Quiet(%s, timeline %v) = %v, want %v", tc.at, tc.tl != nil, got, tc.want)
		}
	}
	if _, err := config.Parse([]byte("quiet_hours:\n  session: [lunch]\n")); err == nil || !strings.Contains(err.Error(), `unknown session "lunch"`) {
		t.Errorf("an unknown session: %v", err)
	}
}

func TestMaintenance(t *testing.T) {
	c := configtest.Parse(t, `maintenance:
  - {name: upgrade, from: 2026-07-04T20:00:00Z, until: 2026-07-04T23:00:00Z, groups: [gateways]}
  - {name: nightly, timezone: Europe/London, days: fri, start: "23:30", end: "00:30", programs: ["md_*"], processes: ["risk:*"]}
  - {name: all, from: 2026-08-01T00:00:00Z, until: 2026-08-01T01:00:00Z}`)
	london, _ := time.LoadLocation("Europe/London")
	gw := &alert.Alert{Group: "gateways", Program: "fix"}
	md := &alert.Alert{Group: "feeds", Program: "md_cme"}
	risk := &alert.Alert{Group: "risk", Program: "limits"}
	other := &alert.Alert{Group: "strategies", Program: "mm"}
	tests := []struct {
		name  string
		a     *alert.Alert
		at    time.Time
		want  string
		inMnt bool
	}{
		{"one-off, group matches", gw, time.Date(2026, 7, 4, 21, 0, 0, 0, time.UTC), "upgrade", true},
		{"one-off, other group", other, time.Date(2026, 7, 4, 21, 0, 0, 0, time.UTC), "", false},
		{"one-off, end is exclusive", gw, time.Date(2026, 7, 4, 23, 0, 0, 0, time.UTC), "", false},
		{"recurring friday night", md, time.Date(2026, 7, 3, 23, 45, 0, 0, london), "nightly", true},
		{"recurring wraps into saturday", risk, time.Date(2026, 7, 4, 0, 15, 0, 0, london), "nightly", true},
		{"recurring, saturday night is not friday", md, time.Date(2026, 7, 4, 23, 45, 0, 0, london), "", false},
		{"recurring, unmatched program", other, time.Date(2026, 7, 3, 23, 45, 0, 0, london), "", false},
		{"host-wide window", other, time.Date(2026, 8, 1, 0, 30, 0, 0, time.UTC), "all", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := InMaintenance(c, tc.a, tc.at)
			if ok != tc.inMnt || (ok && m.Name != tc.want) {
				t.Errorf("InMaintenance = %v %v, want %q %v", m, ok, tc.want, tc.inMnt)
			}
		})
	}
}
