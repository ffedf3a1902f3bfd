package sections

import (
	"strings"
	"testing"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
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
			want: []string{`line 2: listeners.haltgaurd: no listener is named "haltgaurd" (known: crashpager, eventlog, exporter, haltguard, healthprobe, memguard)`}},
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
