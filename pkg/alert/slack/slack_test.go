package slack_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/alert/slack"
)

const canaryToken = "xoxb-CANARY-0123456789-secret"

func sample() *alert.Notification {
	n := alerttest.Notification(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	n.Details["from_state"] = "BACKOFF"
	n.LogTail = "starting\npanic: <nil> & more\ngoroutine 1 [running]"
	return n
}

func resolved(n *alert.Notification, ref string) *alert.Notification {
	r := *n
	r.Kind = alert.Resolve
	r.Ref = ref
	r.Time = n.FirstSeen.Add(5 * time.Minute)
	return &r
}

func newWebhook(t *testing.T, hook *alerttest.SlackWebhook, timeout time.Duration) *slack.Notifier {
	t.Helper()
	n, err := slack.New(slack.Config{WebhookURL: hook.URL(), Timeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func newBot(t *testing.T, api *alerttest.SlackAPI, timeout time.Duration) *slack.Notifier {
	t.Helper()
	n, err := slack.New(slack.Config{Token: canaryToken, Channel: "#alerts", APIURL: api.URL(), Timeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func TestWebhookMessageLayout(t *testing.T) {
	hook := alerttest.NewSlackWebhook(t)
	n := newWebhook(t, hook, 0)
	rc, err := n.Notify(context.Background(), sample())
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if rc.Ref != "" {
		t.Errorf("webhook Ref = %q, want none", rc.Ref)
	}
	msgs := hook.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want 1", len(msgs))
	}
	m := msgs[0]
	if got, want := strings.Join(m.BlockTypes(), ","), "header,section,section,section,actions,context"; got != want {
		t.Errorf("blocks = %s, want %s", got, want)
	}
	text := m.BlockText()
	for _, want := range []string{
		":rotating_light: CRITICAL: trading:engine entered FATAL",
		"*Host*\ndb1", "*Process*\ntrading:engine", "*Condition*\nfatal", "*Count*\n3", "*Action*\nhalted trading",
		"exit_status: 1", "from_state: BACKOFF",
		"```\nstarting\npanic: &lt;nil&gt; &amp; more\ngoroutine 1 [running]\n```",
		"<!date^1714557600^", "incident inc-1", "crashpager",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("blocks lack %q:\n%s", want, text)
		}
	}
	if urls := m.ButtonURLs(); len(urls) != 1 || urls[0] != "https://wiki.example/runbooks/fatal" {
		t.Errorf("buttons = %q, want the runbook", urls)
	}
	if want := "[CRITICAL] trading:engine entered FATAL (db1 trading:engine fatal, count 3)"; m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}
}

func TestWebhookResolveIsANewMessage(t *testing.T) {
	hook := alerttest.NewSlackWebhook(t)
	n := newWebhook(t, hook, 0)
	ctx := context.Background()
	if _, err := n.Notify(ctx, sample()); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	if _, err := n.Notify(ctx, resolved(sample(), "C1/1.2")); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	msgs := hook.Messages()
	if len(msgs) != 2 {
		t.Fatalf("messages = %d, want 2", len(msgs))
	}
	if !strings.HasPrefix(msgs[1].BlockText(), ":white_check_mark: RESOLVED: trading:engine entered FATAL") ||
		!strings.HasPrefix(msgs[1].Text, "[RESOLVED]") {
		t.Errorf("resolve message = %q / %q", msgs[1].Text, msgs[1].BlockText())
	}
}

func TestBotTokenUpdatesAndThreads(t *testing.T) {
	api := alerttest.NewSlackAPI(t, canaryToken)
	n := newBot(t, api, 0)
	ctx := context.Background()

	trig := sample()
	rc, err := n.Notify(ctx, trig)
	if err != nil {
		t.Fatalf("trigger: %v", err)
	}
	channel, ts, ok := strings.Cut(rc.Ref, "/")
	if !ok || channel != api.ChannelID("#alerts") || ts == "" {
		t.Fatalf("Ref = %q, want channel-ID/ts", rc.Ref)
	}

	tests := []struct {
		name       string
		n          *alert.Notification
		wantHeader string // start of the original message after the call
		wantReply  string // start of the newest thread reply
	}{
		{
			name:       "reminder",
			n:          func() *alert.Notification { r := *trig; r.Ref, r.Reminder, r.Count = rc.Ref, true, 7; return &r }(),
			wantHeader: ":rotating_light: CRITICAL:",
			wantReply:  ":repeat: *Still firing, count 7*",
		},
		{
			name:       "update",
			n:          func() *alert.Notification { r := *trig; r.Ref, r.Action = rc.Ref, "restarted twice"; return &r }(),
			wantHeader: ":rotating_light: CRITICAL:",
			wantReply:  ":rotating_light: *Update (critical), count 3*",
		},
		{
			name:       "resolve",
			n:          resolved(trig, rc.Ref),
			wantHeader: ":white_check_mark: RESOLVED: trading:engine entered FATAL",
			wantReply:  ":white_check_mark: *Resolved after 5m0s, count 3*",
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := n.Notify(ctx, tc.n)
			if err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if got.Ref != rc.Ref {
				t.Errorf("Ref = %q, want the original %q", got.Ref, rc.Ref)
			}
			m, ok := api.Message(channel, ts)
			if !ok || !strings.HasPrefix(m.BlockText(), tc.wantHeader) {
				t.Errorf("original message now starts %q, want %q", m.BlockText(), tc.wantHeader)
			}
			replies := api.Replies(channel, ts)
			if len(replies) != i+1 {
				t.Fatalf("replies = %d, want %d", len(replies), i+1)
			}
			if last := replies[len(replies)-1]; !strings.HasPrefix(last.BlockText(), tc.wantReply) {
				t.Errorf("reply = %q, want prefix %q", last.BlockText(), tc.wantReply)
			}
		})
	}
	if top := api.TopLevel(); len(top) != 1 {
		t.Errorf("top-level messages = %d, want only the original", len(top))
	}
	if m, _ := api.Message(channel, ts); !strings.Contains(m.BlockText(), "*Action*\nhalted trading") {
		t.Errorf("resolved message lost its fields:\n%s", m.BlockText())
	}
}

func TestBotFollowUpWhenOriginalIsGone(t *testing.T) {
	api := alerttest.NewSlackAPI(t, canaryToken)
	api.ExpectViolations() // the update of a vanished message is refused: message_not_found
	n := newBot(t, api, 0)
	gone := api.ChannelID("#alerts") + "/1600000000.000001"
	rc, err := n.Notify(context.Background(), resolved(sample(), gone))
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	top := api.TopLevel()
	if len(top) != 1 || !strings.HasPrefix(top[0].BlockText(), ":white_check_mark: RESOLVED") {
		t.Fatalf("top-level = %+v, want one RESOLVED message", top)
	}
	if rc.Ref != top[0].Channel+"/"+top[0].TS {
		t.Errorf("Ref = %q, want the new message's", rc.Ref)
	}
	if v := api.Violations(); len(v) != 1 || !strings.HasPrefix(v[0], "message_not_found") {
		t.Errorf("violations = %q", v)
	}
}

func TestMessagesStayWithinSlackLimits(t *testing.T) {
	long := sample()
	long.Summary = strings.Repeat("very long summary <&> ", 40)
	long.Action = strings.Repeat("a&", 2000)
	long.Details = map[string]string{}
	for i := range 60 {
		long.Details[fmt.Sprintf("key%02d", i)] = strings.Repeat("<v>", 30)
	}
	var tail strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&tail, "line %04d ``` <&> ünïcödé\n", i)
	}
	long.LogTail = tail.String()
	notRunbookURL := sample()
	notRunbookURL.Runbook = "see wiki page Trading/Fatal"

	for name, nt := range map[string]*alert.Notification{"long": long, "runbook text": notRunbookURL} {
		t.Run(name, func(t *testing.T) {
			hook := alerttest.NewSlackWebhook(t) // fails the test on any limit violation
			if _, err := newWebhook(t, hook, 0).Notify(context.Background(), nt); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			msgs := hook.Messages()
			if len(msgs) != 1 {
				t.Fatalf("messages = %d", len(msgs))
			}
			text := msgs[0].BlockText()
			if nt == long {
				if !strings.Contains(text, "line 2999") || strings.Contains(text, "line 0000") {
					t.Error("log tail should keep the newest lines and drop the oldest")
				}
				if strings.Count(text, "```") != 2 {
					t.Errorf("code block fences = %d, want 2", strings.Count(text, "```"))
				}
			} else if !strings.Contains(text, "*Runbook:* see wiki page Trading/Fatal") || len(msgs[0].ButtonURLs()) != 0 {
				t.Errorf("a runbook that is not a URL should be text, got:\n%s", text)
			}
		})
	}
}

// leakyTransport fails every request with an error quoting the URL and the
// body, as a careless proxy or a *url.Error would.
type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	return nil, fmt.Errorf("proxy refused %s with body %s", r.URL, body)
}

func TestErrorClassification(t *testing.T) {
	httpDate := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		fault     alerttest.Fault
		refuse    bool
		webhook   bool // the fault applies to the webhook (else to the Web API)
		retryable bool
		after     time.Duration
	}{
		{name: "webhook 500", webhook: true, fault: alerttest.Status(500), retryable: true},
		{name: "webhook 503", webhook: true, fault: alerttest.Status(503), retryable: true},
		{name: "webhook 408", webhook: true, fault: alerttest.Status(408), retryable: true},
		{name: "webhook 429 Retry-After", webhook: true, fault: alerttest.RateLimited(7 * time.Second), retryable: true, after: 7 * time.Second},
		{name: "webhook 429 bare", webhook: true, fault: alerttest.RateLimited(0), retryable: true},
		{name: "webhook 429 HTTP date", webhook: true, fault: alerttest.Fault{Status: 429, Header: http.Header{"Retry-After": {httpDate}}}, retryable: true},
		{name: "webhook 400", webhook: true, fault: alerttest.Status(400)},
		{name: "webhook 404", webhook: true, fault: alerttest.Status(404)},
		{name: "webhook 410 archived", webhook: true, fault: alerttest.Fault{Status: 410, SlackError: "channel_is_archived"}},
		{name: "webhook hang", webhook: true, fault: alerttest.Hang(), retryable: true},
		{name: "webhook drop", webhook: true, fault: alerttest.Drop(), retryable: true},
		{name: "webhook refused", webhook: true, refuse: true, retryable: true},
		{name: "api 500", fault: alerttest.Status(500), retryable: true},
		{name: "api 429 Retry-After", fault: alerttest.RateLimited(3 * time.Second), retryable: true, after: 3 * time.Second},
		{name: "api 429 bare", fault: alerttest.RateLimited(0), retryable: true},
		{name: "api 403", fault: alerttest.Status(403)},
		{name: "api channel_not_found", fault: alerttest.SlackError("channel_not_found")},
		{name: "api invalid_auth", fault: alerttest.SlackError("invalid_auth")},
		{name: "api ratelimited", fault: alerttest.SlackError("ratelimited"), retryable: true},
		{name: "api internal_error", fault: alerttest.SlackError("internal_error"), retryable: true},
		{name: "api hang", fault: alerttest.Hang(), retryable: true},
		{name: "api drop", fault: alerttest.Drop(), retryable: true},
		{name: "api refused", refuse: true, retryable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n *slack.Notifier
			var srv interface {
				Script(...alerttest.Fault)
				Refuse()
			}
			var secrets []string
			if tc.webhook {
				hook := alerttest.NewSlackWebhook(t)
				n, srv, secrets = newWebhook(t, hook, 300*time.Millisecond), hook, []string{hook.URL(), hook.Secret()}
			} else {
				api := alerttest.NewSlackAPI(t, canaryToken)
				n, srv, secrets = newBot(t, api, 300*time.Millisecond), api, []string{canaryToken}
			}
			if tc.refuse {
				srv.Refuse()
			} else {
				srv.Script(tc.fault)
			}
			_, err := n.Notify(context.Background(), sample())
			assertDelivery(t, err, tc.retryable, tc.after)
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error leaks a secret: %v", err)
				}
			}
		})
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const webhook = "https://hooks.slack.com/services/T0001/B0001/CANARYwebhookSECRET"
	tests := []struct {
		name    string
		cfg     slack.Config
		secrets []string
	}{
		{name: "webhook", cfg: slack.Config{WebhookURL: webhook}, secrets: []string{webhook, "CANARYwebhookSECRET"}},
		{name: "token", cfg: slack.Config{Token: canaryToken, Channel: "#a"}, secrets: []string{canaryToken, "CANARY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.HTTPClient = &http.Client{Transport: leakyTransport{}}
			n, err := slack.New(tc.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			_, err = n.Notify(context.Background(), sample())
			assertDelivery(t, err, true, 0)
			if !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("error %q: want the leaked secret replaced by [REDACTED]", err)
			}
			for _, s := range tc.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error leaks %q: %v", s, err)
				}
			}
		})
	}
}

func TestTimeoutIsBounded(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // the sink's
		ctx     time.Duration // the caller's
	}{
		{name: "sink timeout", timeout: 100 * time.Millisecond, ctx: time.Minute},
		{name: "caller deadline", timeout: time.Minute, ctx: 100 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := alerttest.NewSlackAPI(t, canaryToken)
			api.FailAll(alerttest.Hang())
			n := newBot(t, api, tc.timeout)
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctx)
			defer cancel()
			alerttest.NotifyHung(t, ctx, n, sample())
			if api.Requests() != 1 {
				t.Errorf("requests = %d, want exactly one attempt", api.Requests())
			}
		})
	}
}

func TestNew(t *testing.T) {
	const secretURL = "hxxp://CANARY-url"
	tests := []struct {
		name    string
		cfg     slack.Config
		wantErr string
	}{
		{name: "webhook", cfg: slack.Config{WebhookURL: "https://hooks.slack.com/services/T/B/x"}},
		{name: "token", cfg: slack.Config{Token: "xoxb-1", Channel: "#a"}},
		{name: "neither", cfg: slack.Config{}, wantErr: "set exactly one"},
		{name: "both", cfg: slack.Config{WebhookURL: "https://h/x", Token: "t", Channel: "c"}, wantErr: "set exactly one"},
		{name: "token without channel", cfg: slack.Config{Token: "t"}, wantErr: "without a channel"},
		{name: "channel without token", cfg: slack.Config{Channel: "c"}, wantErr: "without a token"},
		{name: "bad webhook URL", cfg: slack.Config{WebhookURL: secretURL}, wantErr: "not an absolute http(s) URL"},
		{name: "bad API URL", cfg: slack.Config{Token: "t", Channel: "c", APIURL: "/api"}, wantErr: "API URL"},
		{name: "negative timeout", cfg: slack.Config{Token: "t", Channel: "c", Timeout: -time.Second}, wantErr: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := slack.New(tc.cfg)
			alerttest.CheckNewError(t, err, tc.wantErr, "CANARY")
		})
	}
}

func TestNilNotification(t *testing.T) {
	n, err := slack.New(slack.Config{WebhookURL: "https://h/x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Notify(context.Background(), nil)
	assertDelivery(t, err, false, 0)
}

func assertDelivery(t *testing.T, err error, retryable bool, after time.Duration) {
	t.Helper()
	var de *alert.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v (%T), want a *alert.DeliveryError", err, err)
	}
	if de.Retryable != retryable || de.RetryAfter != after {
		t.Errorf("err = %v: retryable %v after %s, want %v after %s", err, de.Retryable, de.RetryAfter, retryable, after)
	}
}

func BenchmarkNotify(b *testing.B) {
	for _, mode := range []string{"webhook", "bot"} {
		b.Run(mode, func(b *testing.B) {
			var n *slack.Notifier
			var reset func()
			var err error
			if mode == "webhook" {
				hook := alerttest.NewSlackWebhook(b)
				n, err = slack.New(slack.Config{WebhookURL: hook.URL()})
				reset = hook.Reset
			} else {
				api := alerttest.NewSlackAPI(b, canaryToken)
				n, err = slack.New(slack.Config{Token: canaryToken, Channel: "#alerts", APIURL: api.URL()})
				reset = api.Reset
			}
			if err != nil {
				b.Fatal(err)
			}
			alerttest.BenchNotify(b, n, sample(), reset)
		})
	}
}
