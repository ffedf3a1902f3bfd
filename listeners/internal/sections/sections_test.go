package sections

import (
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/session"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		skip string
		want []string // the lines of the error, in order; none: valid
	}{
		{name: "valid", yaml: "listeners:\n  crashpager: {spree_threshold: 2}\n  haltguard: {critical: [rm], targets: [trading]}\n"},
		{name: "no sections", yaml: "host: h\n"},
		{name: "every bad section, in name order", yaml: "listeners:\n  haltguard: {critical: [rm], targets: []}\n  crashpager:\n    spree_window: 1ms\n",
			want: []string{"line 4: listeners.crashpager.spree_window: 1ms: want at least 1s", "line 2: listeners.haltguard.targets: empty target list: name the groups or programs a halt stops (e.g. trading)"}},
		{name: "the caller's own section is skipped", yaml: "listeners:\n  haltguard: {critical: [rm], targets: []}\n", skip: "haltguard"},
		{name: "unknown listener", yaml: "listeners:\n  haltgaurd: {critical: [rm]}\n",
			want: []string{`line 2: listeners.haltgaurd: no listener is named "haltgaurd" (known: crashpager, eventlog, exporter, haltguard, healthprobe, marketclock, memguard)`}},
		{name: "unknown field", yaml: "listeners:\n  crashpager:\n    include: [a]\n    exclud: [b]\n",
			want: []string{`listeners.crashpager: line 4: unknown field "exclud"`}},
		{name: "eventlog has no section", yaml: "listeners:\n  eventlog: {events: [TICK]}\n",
			want: []string{"line 2: listeners.eventlog: eventlog reads no section: it is configured by its flags (-events, -process) in its supervisord command line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			err = Check(c, tt.skip)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Errorf("Check =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestKillSwitch(t *testing.T) {
	parse := func(yaml string) *config.Config {
		c, err := config.Parse([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	latch, targets, err := KillSwitch(parse("host: h\n"), "/s/state.db")
	if latch != nil || targets != nil || err != nil {
		t.Errorf("no haltguard section: %v %v %v, want no kill switch", latch, targets, err)
	}
	latch, targets, err = KillSwitch(parse("listeners:\n  haltguard: {critical: [rm], targets: [trading, 'ops:feed'], latch_mirror: /m/halt.latch}\n"), "/s/state.db")
	fl, ok := latch.(*halt.FileLatch)
	if err != nil || !ok || strings.Join(fl.Paths, ",") != "/s/halt.latch,/m/halt.latch" || strings.Join(targets, ",") != "trading,ops:feed" {
		t.Errorf("KillSwitch = %#v %v %v", latch, targets, err)
	}
	if _, _, err := KillSwitch(parse("listeners:\n  haltguard: {critical: [rm], targts: [trading]}\n"), "/s/state.db"); err == nil {
		t.Error("a haltguard section that does not decode: no error; a guard must not run without the kill switch it was given")
	}
}

// TestActiveSession: a check limited to sessions is active in them, and
// active when the session cannot be known (marketclock not running).
func TestActiveSession(t *testing.T) {
	a := &Active{Session: []string{"open", "close-only"}, loc: time.UTC}
	t0 := time.Date(2027, 3, 25, 0, 0, 0, 0, time.UTC)
	tl := &session.Timeline{Until: t0.Add(24 * time.Hour), Spans: []session.Span{
		{From: t0, State: session.Closed}, {From: t0.Add(8 * time.Hour), State: session.Open},
		{From: t0.Add(12*time.Hour + 20*time.Minute), State: session.CloseOnly}, {From: t0.Add(12*time.Hour + 30*time.Minute), State: session.Closed}}}
	for _, tc := range []struct {
		h    time.Duration
		tl   *session.Timeline
		want bool
	}{{7 * time.Hour, tl, false}, {9 * time.Hour, tl, true}, {12*time.Hour + 25*time.Minute, tl, true}, {13 * time.Hour, tl, false},
		{25 * time.Hour, tl, true}, {9 * time.Hour, nil, true}} {
		if got := a.Contains(t0.Add(tc.h), tc.tl); got != tc.want {
			t.Errorf("at +%s (timeline %v): active = %v, want %v", tc.h, tc.tl != nil, got, tc.want)
		}
	}
	h := Healthprobe{Checks: []ProbeCheck{{Name: "feed", Processes: []string{"*"}, HTTP: &HTTPCheck{URL: "http://127.0.0.1:1/health"},
		Active: &Active{Session: []string{"lunch"}}}}}.WithDefaults()
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), `unknown session "lunch"`) {
		t.Errorf("an unknown session: %v", err)
	}
}
