package memguard_test

import (
	"os"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
)

// TestCheckRefuses: -check against the running supervisord refuses a bad
// size, a pattern that selects no process and two limits that select one
// process equally specifically, each naming its field; the file that
// runs is accepted and explained.
func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: program("mm", "") + program("arb", "") + "\n[group:trading]\nprograms=mm,arb\n", Memguard: `
limits:
  - processes: ["*"]
    max: 2GiB
`})
	base := string(must(os.ReadFile(e.s.Path("superguard.yaml"))))
	base = base[:strings.Index(base, "  memguard:\n")]
	tests := []struct{ name, section, want string }{
		{"bad size", "limits:\n  - {processes: ['*'], max: 2GB-ish}\n", `size "2GB-ish"`},
		{"unknown unit", "limits:\n  - {processes: ['*'], max: 2TiBB}\n", `size "2TiBB"`},
		{"unknown program", "limits:\n  - {processes: ['trading:mn'], max: 1GB}\n", `listeners.memguard.limits[0].processes: "trading:mn" matches no program or group in supervisord`},
		{"equal specificity", "limits:\n  - {processes: ['trading:m*'], max: 1GB}\n  - {processes: ['*:*m'], max: 2GB}\n",
			"listeners.memguard.limits[0] and listeners.memguard.limits[1]: select trading:mm equally specifically (program glob)"},
		{"same pattern twice", "cpu:\n  - {processes: [trading], max: 1}\n  - {processes: [trading], max: 2}\n", `listeners.memguard.cpu[1].processes: "trading" is also in listeners.memguard.cpu[0]`},
		{"bad measure", "limits:\n  - {processes: ['*'], max: 1GB, measure: vsz}\n", `listeners.memguard.limits[0].measure: "vsz"`},
	}
	for _, tt := range tests {
		path := e.s.Path(strings.ReplaceAll(tt.name, " ", "_") + ".yaml")
		if err := os.WriteFile(path, []byte(base+"  memguard:\n"+harness.Indent(tt.section, "    ")), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := harness.RunBin(t, "./listeners/memguard", "-check", "-config", path)
		if code != 2 || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d, want 2 with %q:\n%s", tt.name, code, tt.want, out)
		}
	}
	code, out := harness.RunBin(t, "./listeners/memguard", "-check", "-config", e.s.Path("superguard.yaml"))
	if code != 0 || !strings.Contains(lineWith(out, "trading:arb "), "limits[0] by any process") {
		t.Errorf("-check of the running file: exit %d\n%s", code, out)
	}
	// status, for people and as JSON.
	e.waitProc(t, "trading:mm", "watched", waitAction, func(p procStatus) bool { return p.Bytes > 0 })
	code, out = harness.RunBin(t, "./listeners/memguard", "status", "-config", e.s.Path("superguard.yaml"))
	if code != 0 || !strings.Contains(out, "trading:mm") || !strings.Contains(out, "(learning: ") || !strings.Contains(out, "host: memory") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	code, out = harness.RunBin(t, "./listeners/memguard", "status", "-json", "-config", e.s.Path("superguard.yaml"))
	if code != 0 || !strings.Contains(out, `"process":"trading:arb"`) {
		t.Errorf("status -json: exit %d\n%s", code, out)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
