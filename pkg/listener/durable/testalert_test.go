package durable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/listener"
)

// Canaries: secrets that must never reach stdout or stderr. The Slack
// webhook's URL, the fourth, differs per fake (fakes.secrets).
const (
	pdKey    = "pdCANARY0123456789abcdef01234567"
	slackTok = "xoxb-CANARY-slack-token"
	amPass   = "am-CANARY-pass"
)

// testAlertConfig writes a config with a PagerDuty, a Slack bot, a Slack
// webhook, an Alertmanager and a log sink, each secret in a file, and
// routes: critical to oncall and ops, warning to ops, hook and am, info to
// log; spare is a sink no route names, whose secret is not set.
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
	t.Helper()
	f := &fakes{pd: alerttest.NewPagerDuty(t), slack: alerttest.NewSlackAPI(t, slackTok), hook: alerttest.NewSlackWebhook(t), am: alerttest.NewAlertmanager(t)}
	f.am.RequireBasicAuth("sg", amPass)
	f.cfg = testAlertConfig(t, f.pd, f.slack, f.hook, f.am)
	return f
}

// secrets are every secret of f's config.
func (f *fakes) secrets() []string {
	return []string{pdKey, slackTok, amPass, f.hook.URL(), f.hook.Secret()}
}

// runTA runs test-alert with args and fails the test when a secret of f
// shows in its output or its log.
func runTA(t *testing.T, f *fakes, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runTestAlert(context.Background(), append([]string{"-config", f.cfg}, args...), listener.IO{Stdout: &out, Stderr: &errOut})
	for _, secret := range f.secrets() {
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Errorf("test-alert printed a secret (%s...):\n%s\n%s", secret[:6], out.String(), errOut.String())
		}
	}
	return code, out.String(), errOut.String()
}

// squeeze joins s's words with single spaces, so that assertions do not
// depend on the table's column widths.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestTestAlertEverySink: without flags the alert goes to every sink a
// route names, each takes it and its resolve, the services saw a trigger
// then a resolve of one key marked TEST, and nothing was stored.
func TestTestAlertEverySink(t *testing.T) {
	f := newFakes(t)
	state := filepath.Join(t.TempDir(), "state.db")
	code, out, errOut := runTA(t, f, "-state", state)
	if code != listener.ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"(warning) to 5 sink(s)", "oncall pagerduty delivered in", "ops slack delivered in",
		"hook slack delivered in", "am alertmanager delivered in", "log log delivered in", "5 of 5 sink(s) took it"} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Count(out, ", resolved") != 5 {
		t.Errorf("want 5 sinks resolved:\n%s", out)
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
	if want := "trade-01/superguard:test-"; !strings.HasPrefix(events[0].DedupKey, want) || !strings.HasSuffix(events[0].DedupKey, "/test") {
		t.Errorf("dedup key %q, want %s<id>/test", events[0].DedupKey, want)
	}
	calls := f.slack.Calls()
	if len(calls) < 2 || calls[0].Method != "chat.postMessage" || !strings.Contains(calls[0].Text, "] TEST alert from superguard") ||
		calls[1].Method != "chat.update" || !strings.Contains(calls[1].Text, "RESOLVED") {
		t.Errorf("Slack API calls %+v; want a TEST message, then its update to resolved", calls)
	}
	if msgs := f.hook.Messages(); len(msgs) != 2 || !strings.HasPrefix(msgs[0].Text, "[WARNING] TEST alert from superguard") ||
		!strings.HasPrefix(msgs[1].Text, "[RESOLVED] TEST alert from superguard") {
		t.Errorf("webhook messages %+v, want a TEST message and its resolve", msgs)
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

	if !strings.Contains(errOut, `"message":"sending a test alert"`) || strings.Count(errOut, `"message":"test alert answer"`) != 5 {
		t.Errorf("want the test and each sink's answer logged:\n%s", errOut)
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("test-alert touched the state store: %v", err)
	}
}

// TestTestAlertSinkFails: a sink that answers an error, rate-limits, hangs
// past -timeout or cannot be reached is reported with its exact error; the
// other sinks are still tried and take the alert and its resolve; the exit
// status is 1.
func TestTestAlertSinkFails(t *testing.T) {
	const timeout = "2s" // a healthy local fake answers well within it
	tests := []struct {
		name  string
		sink  string
		fault func(f *fakes)
		want  func(f *fakes) string // the sink's line after its name and type
	}{
		{"pagerduty 500", "oncall", func(f *fakes) { f.pd.FailAll(alerttest.Status(500)) },
			func(*fakes) string { return "FAILED: retryable: pagerduty trigger: status 500: Internal Server Error" }},
		{"pagerduty 429", "oncall", func(f *fakes) { f.pd.FailAll(alerttest.RateLimited(30 * time.Second)) },
			func(*fakes) string {
				return "FAILED: retryable (retry after 30s): pagerduty trigger: status 429: throttle event: Requests for this service are arriving too quickly. Please retry later."
			}},
		{"pagerduty hangs", "oncall", func(f *fakes) { f.pd.FailAll(alerttest.Hang()) },
			func(f *fakes) string {
				return `FAILED: no answer within 2s: retryable: pagerduty trigger: error calling the API endpoint: Post "` + f.pd.URL() + `/v2/enqueue": context deadline exceeded`
			}},
		{"slack api 429", "ops", func(f *fakes) { f.slack.FailAll(alerttest.RateLimited(7 * time.Second)) },
			func(*fakes) string {
				return "FAILED: retryable (retry after 7s): slack chat.postMessage: slack rate limit exceeded, retry after 7s"
			}},
		{"slack api error", "ops", func(f *fakes) { f.slack.FailAll(alerttest.SlackError("channel_not_found")) },
			func(*fakes) string { return "FAILED: permanent: slack chat.postMessage: channel_not_found" }},
		{"slack webhook 500", "hook", func(f *fakes) { f.hook.FailAll(alerttest.Status(500)) },
			func(*fakes) string {
				return "FAILED: retryable: slack webhook: slack server error: 500 Internal Server Error"
			}},
		{"slack webhook 429", "hook", func(f *fakes) { f.hook.FailAll(alerttest.RateLimited(0)) },
			func(*fakes) string {
				return "FAILED: retryable: slack webhook: slack server error: 429 Too Many Requests"
			}},
		{"slack webhook hangs", "hook", func(f *fakes) { f.hook.FailAll(alerttest.Hang()) },
			func(*fakes) string {
				return `FAILED: no answer within 2s: retryable: slack webhook: failed to post webhook: Post "[REDACTED]": context deadline exceeded`
			}},
		{"alertmanager 500", "am", func(f *fakes) { f.am.FailAll(alerttest.Status(500)) },
			func(f *fakes) string {
				return "FAILED: retryable: 1 of 1 alertmanagers failed: alertmanager " + f.am.URL() + ": status 500: Internal Server Error"
			}},
		{"alertmanager hangs", "am", func(f *fakes) { f.am.FailAll(alerttest.Hang()) },
			func(f *fakes) string {
				return "FAILED: no answer within 2s: retryable: 1 of 1 alertmanagers failed: alertmanager " + f.am.URL() +
					`: Post "` + f.am.URL() + `/api/v2/alerts": context deadline exceeded`
			}},
	}
	types := map[string]string{"oncall": "pagerduty", "ops": "slack", "hook": "slack", "am": "alertmanager", "log": "log"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t)
			tt.fault(f)
			code, out, errOut := runTA(t, f, "-timeout", timeout)
			if code != listener.ExitFailed {
				t.Errorf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			lines := map[string]string{}
			for line := range strings.Lines(out) {
				if w := strings.Fields(line); len(w) > 2 {
					lines[w[0]] = squeeze(line)
				}
			}
			if want := tt.sink + " " + types[tt.sink] + " " + tt.want(f); lines[tt.sink] != want {
				t.Errorf("got  %s\nwant %s", lines[tt.sink], want)
			}
			for sink, typ := range types {
				if sink == tt.sink {
					continue
				}
				if l := lines[sink]; !strings.HasPrefix(l, sink+" "+typ+" delivered in ") || !strings.HasSuffix(l, " ms, resolved") {
					t.Errorf("%s: %q, want delivered and resolved", sink, l)
				}
			}
			if !strings.Contains(out, "4 of 5 sink(s) took it") {
				t.Errorf("no count of the sinks that took it:\n%s", out)
			}
			if tt.sink != "oncall" && (f.pd.Triggers(f.pd.Events()[0].DedupKey) != 1 || f.pd.Resolves(f.pd.Events()[0].DedupKey) != 1) {
				t.Errorf("PagerDuty saw %+v, want a trigger and its resolve", f.pd.Events())
			}
		})
	}
}

// TestTestAlertNeverPrintsSecrets: services that quote a secret back, and
// errors that carry the webhook's URL, print [REDACTED] in its place
// (runTA fails the test on any canary in the output or the log).
func TestTestAlertNeverPrintsSecrets(t *testing.T) {
	tests := []struct {
		name  string
		fault func(f *fakes)
	}{
		{"pagerduty quotes the routing key", func(f *fakes) {
			f.pd.FailAll(alerttest.Fault{Status: 400,
				Body: `{"status":"invalid event","message":"Event object is invalid","errors":["routing_key ` + pdKey + ` is invalid"]}`})
		}},
		{"slack quotes the token", func(f *fakes) {
			f.slack.FailAll(alerttest.Fault{Status: 200, Body: `{"ok":false,"error":"invalid_auth ` + slackTok + `"}`})
		}},
		{"webhook connection dropped", func(f *fakes) { f.hook.FailAll(alerttest.Drop()) }},
		{"webhook refused", func(f *fakes) { f.hook.Refuse() }},
		{"alertmanager quotes the password", func(f *fakes) {
			f.am.FailAll(alerttest.Fault{Status: 401, Body: "bad password " + amPass})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t)
			tt.fault(f)
			code, out, errOut := runTA(t, f, "-json")
			if code != listener.ExitFailed {
				t.Errorf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, "FAILED") && !strings.Contains(out, `"error"`) {
				t.Errorf("no failure reported:\n%s", out)
			}
		})
	}
	t.Run("secret file readable by everyone", func(t *testing.T) {
		f := newFakes(t)
		if err := os.Chmod(filepath.Join(filepath.Dir(f.cfg), "hook.url"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, _ := runTA(t, f, "-sink", "hook")
		if code != listener.ExitFailed || !strings.Contains(out, "readable by everyone") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
}

// TestTestAlertJSON: -json prints each sink's result, the error in the
// sink's words.
func TestTestAlertJSON(t *testing.T) {
	f := newFakes(t)
	f.pd.FailAll(alerttest.Status(500))
	code, out, _ := runTA(t, f, "-json")
	if code != listener.ExitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	var results []SinkResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(results) != 5 {
		t.Fatalf("%d results, want 5:\n%s", len(results), out)
	}
	want := SinkResult{Sink: "oncall", Type: "pagerduty", Error: "retryable: pagerduty trigger: status 500: Internal Server Error"}
	if r := results[0]; r.Sink != want.Sink || r.Type != want.Type || r.Delivered || r.Resolved || r.Error != want.Error {
		t.Errorf("got %+v, want %+v", r, want)
	}
	for _, r := range results[1:] {
		if !r.Delivered || !r.Resolved || r.Error != "" || r.ResolveError != "" {
			t.Errorf("%+v, want delivered and resolved", r)
		}
	}
}

// TestTestAlertChoosingSinks: -sink tests one sink (even one no route
// names, if it can be built: here its variable is missing, which it says
// with its place in the file); -severity tests the sinks the routes send
// that severity to; an unknown sink or a bad severity is a usage error.
func TestTestAlertChoosingSinks(t *testing.T) {
	f := newFakes(t)
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"-sink", "oncall"}, 0, "1 of 1 sink(s) took it", ""},
		{[]string{"--sink", "log", "--severity", "critical"}, 0, "(critical) to 1 sink(s)", ""},
		{[]string{"-severity", "critical"}, 0, "2 of 2 sink(s) took it", ""},
		{[]string{"-severity", "info"}, 0, "1 of 1 sink(s) took it", ""},
		{[]string{"-sink", "spare"}, 1, "FAILED: sinks[5].webhook_url_env: variable NOT_SET_ANYWHERE is not set", ""},
		{[]string{"-sink", "nope"}, 2, "", `test-alert: -sink "nope": no such sink (sinks: oncall, ops, hook, am, log, spare)` + "\n"},
		{[]string{"-severity", "loud"}, 2, "", "test-alert: -severity:"},
		{[]string{"-timeout", "0s"}, 2, "", "test-alert: -timeout: want more than 0"},
		{[]string{"extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"-bogus"}, 2, "", "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runTA(t, f, tt.args...)
			if code != tt.code || !strings.Contains(squeeze(out), tt.out) || !strings.Contains(errOut, tt.err) {
				t.Errorf("exit %d\nstdout %s\nstderr %s\nwant exit %d, %q, %q", code, out, errOut, tt.code, tt.out, tt.err)
			}
			if tt.code == listener.ExitUsage && out != "" {
				t.Errorf("a usage error printed to stdout: %s", out)
			}
		})
	}
	if n := len(f.pd.Events()); n != 4 {
		t.Errorf("PagerDuty got %d events, want a trigger and a resolve for -sink oncall and for -severity critical", n)
	}
}

// TestTestAlertNoRoute: a severity that no route sends anywhere says so,
// naming the sinks, and sends nothing.
func TestTestAlertNoRoute(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "superguard.yaml")
	yaml := "host: h\nstate_path: " + dir + "/s.db\nsinks:\n  - {name: log, type: log}\n  - {name: pager, type: log}\n" +
		"routes:\n  - match: {severity: critical}\n    sinks: [pager]\n  - match: {condition: halt}\n    sinks: [log]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := runTestAlert(context.Background(), []string{"-config", path, "-severity", "info"}, listener.IO{Stdout: &out, Stderr: &errOut})
	want := "test-alert: no route sends a info alert to any sink (sinks: log, pager)\n"
	if code != listener.ExitUsage || errOut.String() != want || out.Len() != 0 {
		t.Errorf("exit %d\nstdout %s\nstderr %s\nwant exit 2 and %q", code, out.String(), errOut.String(), want)
	}
}

// fakeNotifier takes triggers and fails resolves.
type fakeNotifier struct {
	mu   sync.Mutex
	seen []alert.Notification
}

var _ alert.Notifier = (*fakeNotifier)(nil)

func (n *fakeNotifier) Notify(_ context.Context, nt *alert.Notification) (alert.Receipt, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seen = append(n.seen, *nt)
	if nt.Kind == alert.Resolve {
		return alert.Receipt{}, errors.New("resolve refused")
	}
	return alert.Receipt{Ref: "C1/1700000000.000100"}, nil
}

// TestTestAlertResolveFails: a sink that takes the trigger but not the
// resolve counts as failed (the test alert is left open there), and the
// resolve carries the trigger's receipt and key.
func TestTestAlertResolveFails(t *testing.T) {
	cfg, err := config.Parse([]byte("host: h\nsinks: [{name: pd, type: log}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := testAlert(cfg, alert.Critical)
	n := &fakeNotifier{}
	results := sendTest(context.Background(), cfg, a, []string{"pd"}, map[string]alert.Notifier{"pd": n}, nil, time.Second)
	if r := results[0]; !r.Delivered || r.Resolved || r.ResolveError != "resolve refused" {
		t.Errorf("got %+v, want delivered, the resolve failed", r)
	}
	if len(n.seen) != 2 || n.seen[1].Kind != alert.Resolve || n.seen[1].Key != a.Key || n.seen[1].Ref != "C1/1700000000.000100" {
		t.Errorf("sink saw %+v", n.seen)
	}
	if !strings.HasPrefix(n.seen[0].Summary, "TEST") || !strings.HasPrefix(n.seen[1].Summary, "TEST") || n.seen[0].Condition != alert.CondTest {
		t.Errorf("not marked as a test: %+v", n.seen)
	}
	var out bytes.Buffer
	printTest(&out, a, results)
	text := squeeze(out.String())
	if !strings.Contains(text, "pd log delivered in ") || !strings.Contains(text, " ms; the resolve FAILED: resolve refused 1 of 1 sink(s) took it") {
		t.Errorf("want the delivery and the failed resolve in\n%s", out.String())
	}
	logResults(zerolog.New(&out), a, results)
	if !strings.Contains(out.String(), `"level":"warn","resolve_error":"resolve refused"`) {
		t.Errorf("the failed resolve was not logged as a warning:\n%s", out.String())
	}
}
