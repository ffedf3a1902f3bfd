package crashpager_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert/alerttest"
)

// TestTestAlertCommand runs the real binary's `test-alert` from a shell's
// environment (no supervisord, no listener running): a PagerDuty that
// takes it and a Slack webhook that fails are each reported, the exit
// status says one sink did not take it, no secret is printed, and nothing
// lands in the state store's incidents.
func TestTestAlertCommand(t *testing.T) {
	t.Parallel()
	pd := alerttest.NewPagerDuty(t)
	hook := alerttest.NewSlackWebhook(t)
	hook.FailAll(alerttest.Status(404))
	dir := t.TempDir()
	const key = "pdCANARY0123456789abcdef01234567"
	if err := os.WriteFile(filepath.Join(dir, "pd.key"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "superguard.yaml")
	yaml := fmt.Sprintf(`host: trade-01
state_path: %[1]s/state.db
sinks:
  - {name: oncall, type: pagerduty, routing_key_file: %[1]s/pd.key, events_url: %[2]s}
  - {name: ops, type: slack, webhook_url_env: TEST_HOOK}
`, dir, pd.URL())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(harness.Bin(t, "./listeners/crashpager"), "test-alert", "-config", cfg, "-severity", "critical")
	cmd.Env = testsupport.CleanEnv("TEST_HOOK=" + hook.URL())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want 1 (one sink failed)\n%s%s", err, out.String(), errOut.String())
	}
	text := out.String()
	for _, want := range []string{"(critical) to 2 sink(s)", "oncall  pagerduty  delivered in", "ops     slack      FAILED:", "1 of 2 sink(s) took it"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	for _, secret := range []string{key, hook.Secret()} {
		if strings.Contains(text+errOut.String(), secret) {
			t.Errorf("a secret was printed:\n%s\n%s", text, errOut.String())
		}
	}
	if ev := pd.Events(); len(ev) != 2 || ev[0].Action != "trigger" || ev[1].Action != "resolve" || ev[0].Payload.Severity != "critical" {
		t.Errorf("PagerDuty saw %+v", ev)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("test-alert touched the state store: %v", err)
	}
}
