package crashpager_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert/alerttest"
)

// TestTestAlertCommand runs the real binary's `test-alert` from a shell's
// environment (no supervisord, no listener running) against the contract-
// checking fakes: a PagerDuty and an Alertmanager that take it and a Slack
// webhook that fails are each reported, the exit status says one sink did
// not take it, no secret is printed, and the state store is not touched.
// Then -sink with -json, an unknown sink, and -h.
func TestTestAlertCommand(t *testing.T) {
	t.Parallel()
	pd := alerttest.NewPagerDuty(t)
	am := alerttest.NewAlertmanager(t)
	hook := alerttest.NewSlackWebhook(t)
	hook.FailAll(alerttest.Status(500))
	const key, amPass = "pdCANARY0123456789abcdef01234567", "amCANARY-password"
	am.RequireBasicAuth("superguard", amPass)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pd.key"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "superguard.yaml")
	yaml := fmt.Sprintf(`host: trade-01
state_path: %[1]s/state.db
sinks:
  - {name: oncall, type: pagerduty, routing_key_file: %[1]s/pd.key, events_url: %[2]s}
  - {name: ops, type: slack, webhook_url_env: TEST_HOOK}
  - {name: am, type: alertmanager, urls: [%[3]s], username: superguard, password_env: AM_PASS}
  - {name: log, type: log}
routes:
  - match: {condition: [halt, budget, listener]}
    sinks: [oncall, ops, am]
  - match: {severity: critical}
    sinks: [oncall, ops, am]
  - sinks: [log]
`, dir, pd.URL(), am.URL())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := harness.Bin(t, "./listeners/crashpager")
	env := testsupport.CleanEnv("TEST_HOOK="+hook.URL(), "AM_PASS="+amPass)
	run := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		code, out, errOut := testsupport.Run(t, cmd)
		for _, secret := range []string{key, amPass, hook.URL(), hook.Secret()} {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("crashpager %s printed a secret:\n%s\n%s", strings.Join(args, " "), out, errOut)
			}
		}
		return code, out, errOut
	}

	state := filepath.Join(dir, "state.db")
	code, out, errOut := run("test-alert", "-config", cfg, "-state", state, "-severity", "critical", "-timeout", "10s")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (one sink failed)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"(critical) to 3 sink(s)", "oncall  pagerduty     delivered in", "ms, resolved",
		"ops     slack         FAILED: retryable: slack webhook: slack server error: 500 Internal Server Error",
		"am      alertmanager  delivered in", "2 of 3 sink(s) took it"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if ev := pd.Events(); len(ev) != 2 || ev[0].Action != "trigger" || ev[1].Action != "resolve" ||
		ev[0].Payload.Severity != "critical" || !strings.HasPrefix(ev[0].Payload.Summary, "TEST") {
		t.Errorf("PagerDuty saw %+v", ev)
	}
	got := am.Latest("condition", "test")
	if len(got) == 0 {
		t.Error("Alertmanager got no test alert")
	}
	for _, a := range got {
		if a.Firing(time.Now()) {
			t.Errorf("Alertmanager holds %v firing, want the test alert resolved", a.Labels)
		}
	}
	if !strings.Contains(errOut, `"message":"sending a test alert"`) {
		t.Errorf("no log line for the test on stderr:\n%s", errOut)
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("test-alert touched the state store: %v", err)
	}

	code, out, errOut = run("test-alert", "-config", cfg, "-sink", "oncall", "-json")
	var results []struct {
		Sink      string `json:"sink"`
		Delivered bool   `json:"delivered"`
		Resolved  bool   `json:"resolved"`
	}
	if err := json.Unmarshal([]byte(out), &results); code != 0 || err != nil || len(results) != 1 ||
		results[0].Sink != "oncall" || !results[0].Delivered || !results[0].Resolved {
		t.Errorf("-sink oncall -json: exit %d, %v\n%s%s", code, err, out, errOut)
	}

	code, out, errOut = run("test-alert", "-config", cfg, "-sink", "pager")
	if want := `test-alert: -sink "pager": no such sink (sinks: oncall, ops, am, log)`; code != 2 || out != "" || !strings.Contains(errOut, want) {
		t.Errorf("unknown sink: exit %d\nstdout %s\nstderr %s\nwant exit 2 and %q", code, out, errOut, want)
	}

	if code, out, _ = run("-h"); code != 0 || !strings.Contains(out, "  test-alert  [--sink NAME] [--severity S] [-timeout D] [-json]") {
		t.Errorf("-h: exit %d, no test-alert synopsis in\n%s", code, out)
	}
}
