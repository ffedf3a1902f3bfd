package sections

import (
	"slices"
	"strings"
	"testing"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/supervisor"
)

func memguardSection(t *testing.T, yaml string) (Memguard, error) {
	t.Helper()
	c, err := config.Parse([]byte("listeners:\n  memguard:\n" + yaml))
	if err != nil {
		t.Fatal(err)
	}
	var m Memguard
	if err := c.Listener("memguard", &m); err != nil {
		return m, c.LocateError(err)
	}
	m = m.WithDefaults()
	return m, c.LocateError(m.Validate())
}

func TestMemguardDefaults(t *testing.T) {
	m, err := memguardSection(t, "    limits:\n      - {processes: ['*'], max: 2GiB}\n")
	if err != nil {
		t.Fatal(err)
	}
	l := m.Limits[0]
	if l.Measure != MeasureTreeRSS || l.Max != 2<<30 || l.Warn != 1932735283 || l.For != 3 || l.Policy != PolicyRestart {
		t.Errorf("limit defaults: %+v", l)
	}
	if l.Leak.Off || l.Leak.Window != DefaultLeakWindow || l.Leak.Horizon != DefaultLeakHorizon {
		t.Errorf("leak defaults: %+v", l.Leak)
	}
	h := m.Host
	if h.Off || h.Memory != 0.9 || h.MinFree != 10e9 || h.CPU != 0.8 || h.CPUFor != DefaultHostFor {
		t.Errorf("host defaults (the operations thresholds): %+v", h)
	}
}

func TestMemguardRefused(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"bad size", "    limits:\n      - {processes: ['*'], max: 2XB}\n", `line 4: size "2XB": want a number with a unit`},
		{"negative size", "    limits:\n      - {processes: ['*'], max: -1GB}\n", `size "-1GB": must not be negative`},
		{"no max", "    limits:\n      - {processes: ['*']}\n", "listeners.memguard.limits[0].max: required"},
		{"unknown measure", "    limits:\n      - {processes: ['*'], max: 1GB, measure: vms}\n", `limits[0].measure: "vms": want one of tree_rss, rss, pss, tree_pss, cgroup`},
		{"warn above max", "    limits:\n      - {processes: ['*'], max: 1GB, warn: 2GB}\n", "limits[0].warn: 1.9 GiB: want more than 0 and at most max (954 MiB)"},
		{"no processes", "    limits:\n      - {max: 1GB}\n", "limits[0].processes: required"},
		{"bad pattern", "    limits:\n      - {processes: ['a:b:c'], max: 1GB}\n", "limits[0].processes[0]: pattern \"a:b:c\""},
		{"critical alert", "    limits:\n      - {processes: ['*'], max: 1GB, policy: alert, critical: true}\n", "limits[0].critical: needs policy restart"},
		{"same pattern twice", "    limits:\n      - {processes: [trading], max: 1GB}\n      - {processes: [other, trading], max: 2GB}\n",
			`limits[1].processes: "trading" is also in listeners.memguard.limits[0]`},
		{"cpu without max", "    cpu:\n      - {processes: ['*']}\n", "listeners.memguard.cpu[0].max: required"},
		{"fds above 100%", "    fds:\n      - {processes: ['*'], max: 150%}\n", "listeners.memguard.fds[0].max: 150%"},
		{"short leak window", "    limits:\n      - {processes: ['*'], max: 1GB, leak: {window: 10s}}\n", "limits[0].leak.window: 10s: want at least 10 samples"},
		{"every not a tick multiple", "    every: 7s\n    limits:\n      - {processes: ['*'], max: 1GB}\n", "listeners.memguard.every: 7s"},
		{"relative disk", "    host: {disks: [data]}\n", `host.disks[0]: "data": want an absolute path`},
		{"unknown field", "    limits:\n      - {processes: ['*'], maximum: 1GB}\n", `unknown field "maximum"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := memguardSection(t, tt.yaml)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMemguardMostSpecificAndTies(t *testing.T) {
	m, err := memguardSection(t, `    limits:
      - {processes: ['*'], max: 1GB}
      - {processes: [trading], max: 2GB}
      - {processes: ['trading:mm_00'], max: 3GB}
      - {processes: ['mm_*'], max: 4GB}
      - {processes: ['*_01'], max: 5GB}
`)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"mm_00": 2, "arb": 1, "mm_02": 3} {
		if got, _, _ := m.Which("trading", name); got != want {
			t.Errorf("trading:%s: limits[%d]; want limits[%d]", name, got, want)
		}
	}
	if got, _, _ := m.Which("other", "x"); got != 0 {
		t.Errorf("other:x: limits[%d]; want the catch-all", got)
	}
	procs := []supervisor.ProcessInfo{{Group: "trading", Name: "mm_00"}, {Group: "trading", Name: "mm_01"}}
	err = m.Ties(procs)
	if err == nil || !strings.Contains(err.Error(), "listeners.memguard.limits[3] and listeners.memguard.limits[4]: select trading:mm_01 equally specifically (program glob)") {
		t.Errorf("Ties = %v", err)
	}
	if err := m.Ties(procs[:1]); err != nil {
		t.Errorf("no tie for mm_00: %v", err)
	}
}

// TestUnmatched: -check names each pattern that selects no process, by
// its field and entry; "*" is fine with no process yet.
func TestUnmatched(t *testing.T) {
	procs := []supervisor.ProcessInfo{{Group: "trading", Name: "mm_00"}, {Group: "risk", Name: "risk"}}
	h := Healthprobe{Checks: []ProbeCheck{{Processes: []string{"trading"}}, {Processes: []string{"risk", "tradng:*"}}}}
	m := Memguard{Limits: []MemLimit{{Processes: []string{"*"}}}, CPU: []CPUGuard{{Processes: []string{"*:mm_01"}}}}
	tests := []struct {
		name  string
		err   error
		wants []string
	}{
		{"healthprobe", Unmatched("healthprobe", h.Lists(), procs),
			[]string{`listeners.healthprobe.checks[1].processes: "tradng:*" matches no program or group in supervisord`}},
		{"memguard", Unmatched("memguard", m.Lists(), nil),
			[]string{`listeners.memguard.cpu[0].processes: "*:mm_01" matches no program or group in supervisord`}},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if got := strings.Split(tt.err.Error(), "\n"); !slices.Equal(got, tt.wants) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.wants)
		}
	}
	if err := Unmatched("memguard", m.Lists(), []supervisor.ProcessInfo{{Group: "x", Name: "mm_01"}}); err != nil {
		t.Errorf("every pattern matches: %v", err)
	}
}
