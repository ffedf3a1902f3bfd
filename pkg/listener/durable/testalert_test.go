package durable

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/listener"
)

const (
	pdKey    = "pdCANARY0123456789abcdef01234567"
	slackTok = "xoxb-CANARY-slack-token"
	amPass   = "am-CANARY-pass"
)

// testAlertConfig writes a config with a PagerDuty, a Slack bot, a Slack
// webhook, an Alertmanager and a log sink, each secret in a file, and
// routes: critical to oncall and ops, warning to ops, hook and am, info to
// log.
func testAlertConfig(t *testing.T, pd *alerttest.PagerDuty, slack *alerttest.SlackAPI, hook *alerttest.SlackWebhook, am *alerttest.Alertmanager) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range map[string]string{"pd.key": pdKey, "slack.token": slackTok, "hook.url": hook.URL(), "am.pass": amPass} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yaml := fmt.Sprintf(`host: trade-01
state_path: %[1]s/state.db
sinks:
  - {name: oncall, type: pagerduty, routing_key_file: %[1]s/pd.key, events_url: %[2]s}
  - {name: ops, type: slack, token_file: %[1]s/slack.token, channel: "#ops", api_url: %[3]s}
  - {name: hook, type: slack, webhook_url_file: %[1]s/hook.url}
  - {name: am, type: alertmanager, urls: [%[4]s], username: sg, password_file: %[1]s/am.pass}
  - {name: log, type: log}
  - {name: spare, type: slack, webhook_url_env: NOT_SET_ANYWHERE}
routes:
  - match: {severity: critical}
    sinks: [oncall, ops]
  - match: {severity: warning}
    sinks: [ops, hook, am]
  - sinks: [log]
`, dir, pd.URL(), slack.URL(), am.URL())
	path := filepath.Join(dir, "superguard.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type fakes struct {
	pd    *alerttest.PagerDuty
	slack *alerttest.SlackAPI
	hook  *alerttest.SlackWebhook
	am    *alerttest.Alertmanager
	cfg   string
}

func newFakes(t *testing.T) *fakes {
	f := &fakes{pd: alerttest.NewPagerDuty(t), slack: alerttest.NewSlackAPI(t, slackTok), hook: alerttest.NewSlackWebhook(t), am: alerttest.NewAlertmanager(t)}
	f.am.RequireBasicAuth("sg", amPass)
	f.cfg = testAlertConfig(t, f.pd, f.slack, f.hook, f.am)
	return f
}

func runTA(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runTestAlert(context.Background(), args, listener.IO{Stdout: &out, Stderr: &errOut})
	for _, secret := range []string{pdKey, slackTok, amPass} {
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Errorf("test-alert printed a secret (%s...)", secret[:6])
		}
	}
	return code, out.String(), errOut.String()
}

// TestTestAlertEverySink: without flags the alert goes to every sink a
// route names, each takes it and its resolve, and the services saw a
// trigger then a resolve of one key, marked TEST.
func TestTestAlertEverySink(t *testing.T) {
	f := newFakes(t)
	code, out, errOut := runTA(t, "-config", f.cfg)
	if code != listener.ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"to 5 sink(s)", "oncall  pagerduty  delivered in", "ops     slack      delivered in",
		"hook    slack      delivered in", "am      alertmanager  delivered in", "log", "5 of 5 sink(s) took it"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "spare") {
		t.Errorf("a sink no route names was tested:\n%s", out)
	}
	events := f.pd.Events()
	if len(events) != 2 || events[0].Action != "trigger" || events[1].Action != "resolve" || events[0].DedupKey != events[1].DedupKey {
		t.Fatalf("PagerDuty saw %+v, want a trigger and its resolve", events)
	}
	if !strings.HasPrefix(events[0].Payload.Summary, "TEST alert from superguard on trade-01") {
		t.Errorf("PagerDuty summary %q", events[0].Payload.Summary)
	}
	if msgs := f.hook.Messages(); len(msgs) != 2 || !strings.Contains(msgs[0].Text+msgs[0].BlockText(), "TEST") {
		t.Errorf("webhook messages %+v", msgs)
	}
	got := f.am.Latest("condition", "test")
	if len(got) == 0 {
		t.Error("Alertmanager got no test alert")
	}
	for _, a := range got {
		if a.Firing(time.Now()) {
			t.Errorf("Alertmanager holds %+v firing, want the test alert resolved", a.Labels)
		}
	}
	if !strings.Contains(errOut, `"message":"sending a test alert"`) {
		t.Errorf("no log line for the test:\n%s", errOut)
	}
}

// TestTestAlertFailures: a sink answering 500, one rate-limiting and one
// hanging past -timeout are reported with the sink's own error, the
// others are still delivered, and the exit status is 1.
func TestTestAlertFailures(t *testing.T) {
	f := newFakes(t)
	f.pd.FailAll(alerttest.Status(500))
	f.hook.FailAll(alerttest.RateLimited(30 * time.Second))
	f.am.FailAll(alerttest.Fault{Hang: true})
	code, out, _ := runTA(t, "-config", f.cfg, "-timeout", "1s", "-json")
	if code != listener.ExitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	var results []SinkResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]SinkResult{}
	for _, r := range results {
		got[r.Sink] = r
	}
	for sink, want := range map[string]string{"oncall": "500", "hook": "rate limit", "am": "no answer within 1s"} {
		if r := got[sink]; r.Delivered || !strings.Contains(r.Error, want) {
			t.Errorf("%s: %+v, want a failure saying %q", sink, r, want)
		}
	}
	for _, sink := range []string{"ops", "log"} {
		if r := got[sink]; !r.Delivered || !r.Resolved {
			t.Errorf("%s: %+v, want delivered and resolved", sink, r)
		}
	}
}

// TestTestAlertChoosingSinks: -sink tests one sink (even one no route
// names, if it can be built: here its variable is missing, which it
// says); -severity tests the sinks the routes send that severity to; an
// unknown sink or a bad severity is a usage error.
func TestTestAlertChoosingSinks(t *testing.T) {
	f := newFakes(t)
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"-sink", "oncall"}, 0, "1 of 1 sink(s) took it", ""},
		{[]string{"-severity", "critical"}, 0, "2 of 2 sink(s) took it", ""},
		{[]string{"-severity", "info"}, 0, "1 of 1 sink(s) took it", ""},
		{[]string{"-sink", "spare"}, 1, "FAILED: sinks[0].webhook_url_env: variable NOT_SET_ANYWHERE is not set", ""},
		{[]string{"-sink", "nope"}, 2, "", `test-alert: -sink "nope": no such sink (sinks: oncall, ops, hook, am, log, spare)`},
		{[]string{"-severity", "loud"}, 2, "", "test-alert: -severity:"},
		{[]string{"extra"}, 2, "", `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		code, out, errOut := runTA(t, append([]string{"-config", f.cfg}, tt.args...)...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
			t.Errorf("%v: exit %d\nstdout %s\nstderr %s\nwant exit %d, %q, %q", tt.args, code, out, errOut, tt.code, tt.out, tt.err)
		}
	}
	if n := len(f.pd.Events()); n != 4 {
		t.Errorf("PagerDuty got %d events, want a trigger and a resolve for -sink oncall and for -severity critical", n)
	}
}

// TestTestAlertNoRoute: a severity that no route sends anywhere says so.
func TestTestAlertNoRoute(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "superguard.yaml")
	yaml := "host: h\nstate_path: " + dir + "/s.db\nsinks:\n  - {name: log, type: log}\nroutes:\n  - match: {severity: critical}\n    sinks: [log]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runTA(t, "-config", path, "-severity", "info")
	if code != listener.ExitUsage || !strings.Contains(errOut, "no route sends a info alert to any sink (sinks: log)") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
}
