package healthprobe_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// TestCheckAgainstSupervisord: -check compares every check's processes
// with supervisord's: a program that does not exist is named, with the
// field.
func TestCheckAgainstSupervisord(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: strat, Healthprobe: `
checks:
  - {name: api, processes: [strat], http: {url: "http://127.0.0.1:{{.Vars.port0}}/health"}}
`})
	good := filepath.Join(e.s.Dir, "superguard.yaml")
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(e.s.Dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(b), "processes: [strat]", "processes: [strat, stratt]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(config string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, harness.Bin(t, "./listeners/healthprobe"), "-check", "-config", config)
		cmd.Env = testsupport.CleanEnv()
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := run(good); code != 0 || !strings.Contains(out, "OK (checked against supervisord") {
		t.Errorf("good config: exit %d\n%s", code, out)
	}
	if code, out := run(bad); code != 2 || !strings.Contains(out, `listeners.healthprobe.checks[0].processes: "stratt" matches no program or group in supervisord`) {
		t.Errorf("unknown program: exit %d\n%s", code, out)
	}
}
