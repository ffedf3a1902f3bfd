package pagerduty_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/alert/pagerduty"
)

// canaryKey is a well-formed routing key that must never show in an error.
const canaryKey = "CANARYroutingKEY0123456789abcdef"

func sample() *alert.Notification {
	return alerttest.Notification(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
}

func newNotifier(t testing.TB, pd *alerttest.PagerDuty, timeout time.Duration) *pagerduty.Notifier {
	t.Helper()
	n, err := pagerduty.New(pagerduty.Config{RoutingKey: canaryKey, EventsURL: pd.URL(), Timeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func TestTriggerAndResolve(t *testing.T) {
	pd := alerttest.NewPagerDuty(t)
	n := newNotifier(t, pd, 0)
	ctx := context.Background()
	nt := sample()
	if _, err := n.Notify(ctx, nt); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	key := nt.Key
	ev, ok := pd.Last(key)
	if !ok {
		t.Fatalf("no event for %s", key)
	}
	p := ev.Payload
	if ev.Action != "trigger" || ev.RoutingKey != canaryKey || ev.Client != "superguard" ||
		p.Summary != nt.Summary || p.Source != "db1" || p.Severity != "critical" ||
		p.Timestamp != "2024-05-01T10:00:30Z" || p.Component != "trading:engine" || p.Group != "trading" || p.Class != "fatal" {
		t.Errorf("trigger event = %+v, payload %+v", ev, p)
	}
	d := p.Details()
	for k, want := range map[string]any{
		"count": float64(3), "action": "halted trading", "incident_id": "inc-1", "log_tail": "panic: boom",
		"runbook": "https://wiki.example/runbooks/fatal", "first_seen": "2024-05-01T10:00:00Z", "key": key,
	} {
		if d[k] != want {
			t.Errorf("custom_details[%s] = %v, want %v", k, d[k], want)
		}
	}
	if det, _ := d["details"].(map[string]any); det["exit_status"] != "1" {
		t.Errorf("custom_details.details = %v", d["details"])
	}
	if len(ev.Links) != 1 || ev.Links[0].Href != nt.Runbook {
		t.Errorf("links = %+v", ev.Links)
	}

	res := *nt
	res.Kind = alert.Resolve
	if _, err := n.Notify(ctx, &res); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if pd.Triggers(key) != 1 || pd.Resolves(key) != 1 {
		t.Errorf("triggers %d resolves %d, want 1 and 1", pd.Triggers(key), pd.Resolves(key))
	}
	if last, _ := pd.Last(key); last.Payload != nil {
		t.Errorf("resolve carries a payload: %+v", last.Payload)
	}
}

func TestSeverityMapping(t *testing.T) {
	tests := []struct {
		sev  alert.Severity
		want string
	}{{alert.Critical, "critical"}, {alert.Error, "error"}, {alert.Warning, "warning"}, {alert.Info, "info"}}
	pd := alerttest.NewPagerDuty(t)
	n := newNotifier(t, pd, 0)
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			nt := sample()
			nt.Severity = tc.sev
			nt.Key = "sev/" + tc.want
			if _, err := n.Notify(context.Background(), nt); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if ev, _ := pd.Last(nt.Key); ev.Payload.Severity != tc.want {
				t.Errorf("severity = %q, want %q", ev.Payload.Severity, tc.want)
			}
		})
	}
}

func TestDedupKey(t *testing.T) {
	long := strings.Repeat("host/", 100) + "trading:engine/fatal"
	longer := long + "x"
	tests := []struct {
		name string
		key  string
	}{
		{"short", "db1/trading:engine/fatal"},
		{"exactly 255", strings.Repeat("k", 255)},
		{"long", long},
		{"long multibyte", strings.Repeat("ü", 300)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pagerduty.DedupKey(tc.key)
			if utf8.RuneCountInString(got) > 255 {
				t.Errorf("dedup key has %d characters", utf8.RuneCountInString(got))
			}
			if got != pagerduty.DedupKey(tc.key) {
				t.Error("dedup key is not stable")
			}
			if utf8.RuneCountInString(tc.key) <= 255 && got != tc.key {
				t.Errorf("a key that fits changed: %q", got)
			}
			if !utf8.ValidString(got) {
				t.Errorf("dedup key %q is not valid UTF-8", got)
			}
		})
	}
	if pagerduty.DedupKey(long) == pagerduty.DedupKey(longer) {
		t.Error("two long keys with the same prefix share a dedup key")
	}

	// End to end: the fake rejects keys over 255 characters.
	pd := alerttest.NewPagerDuty(t)
	n := newNotifier(t, pd, 0)
	nt := sample()
	nt.Key = long
	for range 2 {
		if _, err := n.Notify(context.Background(), nt); err != nil {
			t.Fatalf("Notify: %v", err)
		}
	}
	if pd.Triggers(pagerduty.DedupKey(long)) != 2 {
		t.Errorf("events = %+v: want two triggers with one hashed key", pd.Events())
	}
}

func TestPayloadLimits(t *testing.T) {
	pd := alerttest.NewPagerDuty(t) // fails the test on any contract violation
	n := newNotifier(t, pd, 0)
	nt := sample()
	nt.Summary = strings.Repeat("ß", 2000)
	nt.Host = ""
	nt.LogTail = strings.Repeat("x", 1<<20) + "\nnewest line"
	nt.Time = time.Time{}
	if _, err := n.Notify(context.Background(), nt); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	ev, _ := pd.Last(nt.Key)
	if got := utf8.RuneCountInString(ev.Payload.Summary); got != 1024 || !strings.HasSuffix(ev.Payload.Summary, "…") {
		t.Errorf("summary has %d characters, want 1024 ending in …", got)
	}
	if ev.Payload.Source != "superguard" {
		t.Errorf("source = %q, want a fallback for an empty host", ev.Payload.Source)
	}
	tail, _ := ev.Payload.Details()["log_tail"].(string)
	if len(tail) > 20<<10 || !strings.HasSuffix(tail, "newest line") {
		t.Errorf("log_tail has %d bytes, want the newest <= 16 KiB", len(tail))
	}
	if _, err := time.Parse(time.RFC3339, ev.Payload.Timestamp); err != nil {
		t.Errorf("timestamp %q: %v", ev.Payload.Timestamp, err)
	}
}

// leakyTransport fails every request with an error quoting the URL and the
// body, as a careless proxy would.
type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	return nil, fmt.Errorf("proxy refused %s with body %s", r.URL, body)
}

func TestErrorClassification(t *testing.T) {
	httpDate := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		fault     alerttest.Fault
		refuse    bool
		retryable bool
		minAfter  time.Duration
		maxAfter  time.Duration
		wantText  string // in the error, e.g. PagerDuty's own message
	}{
		{name: "500", fault: alerttest.Status(500), retryable: true},
		{name: "502", fault: alerttest.Status(502), retryable: true},
		{name: "408", fault: alerttest.Status(408), retryable: true},
		{name: "429 bare", fault: alerttest.RateLimited(0), retryable: true, minAfter: 30 * time.Second, maxAfter: 30 * time.Second, wantText: "status 429: throttle event"},
		{name: "429 short Retry-After", fault: alerttest.RateLimited(5 * time.Second), retryable: true, minAfter: 30 * time.Second, maxAfter: 30 * time.Second},
		{name: "429 long Retry-After", fault: alerttest.RateLimited(90 * time.Second), retryable: true, minAfter: 90 * time.Second, maxAfter: 90 * time.Second},
		{name: "429 HTTP date", fault: alerttest.Fault{Status: 429, Header: http.Header{"Retry-After": {httpDate}}}, retryable: true, minAfter: 100 * time.Second, maxAfter: 2 * time.Minute},
		{name: "400", fault: alerttest.Status(400), wantText: "status 400: invalid event: Event object is invalid"},
		{name: "403", fault: alerttest.Status(403)},
		{name: "404", fault: alerttest.Status(404)},
		{name: "200 not 202", fault: alerttest.Fault{Status: 200, Body: `{"status":"success"}`}, retryable: true},
		{name: "202 garbled body", fault: alerttest.Fault{Status: 202, Body: "<html>"}},
		{name: "hang", fault: alerttest.Hang(), retryable: true},
		{name: "drop", fault: alerttest.Drop(), retryable: true},
		{name: "refused", refuse: true, retryable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pd := alerttest.NewPagerDuty(t)
			n := newNotifier(t, pd, 300*time.Millisecond)
			if tc.refuse {
				pd.Refuse()
			} else {
				pd.Script(tc.fault)
			}
			_, err := n.Notify(context.Background(), sample())
			if tc.name == "202 garbled body" {
				if err != nil {
					t.Errorf("202 means accepted, got %v", err)
				}
				return
			}
			var de *alert.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want a DeliveryError", err, err)
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q lacks %q", err, tc.wantText)
			}
			if de.Retryable != tc.retryable || de.RetryAfter < tc.minAfter || de.RetryAfter > tc.maxAfter {
				t.Errorf("err = %v: retryable %v after %s, want %v after %s..%s", err, de.Retryable, de.RetryAfter, tc.retryable, tc.minAfter, tc.maxAfter)
			}
			if strings.Contains(err.Error(), canaryKey) {
				t.Errorf("error leaks the routing key: %v", err)
			}
			if want := map[bool]int{false: 1, true: 0}[tc.refuse]; pd.Requests() != want {
				t.Errorf("requests = %d, want %d: exactly one attempt", pd.Requests(), want)
			}
		})
	}
}

func TestRoutingKeyNeverInErrors(t *testing.T) {
	n, err := pagerduty.New(pagerduty.Config{RoutingKey: canaryKey, HTTPClient: &http.Client{Transport: leakyTransport{}}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = n.Notify(context.Background(), sample())
	if ok, _ := alert.IsRetryable(err); !ok {
		t.Fatalf("err = %v, want retryable", err)
	}
	if strings.Contains(err.Error(), canaryKey) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error = %v: want the routing key redacted", err)
	}
}

func TestTimeoutIsBounded(t *testing.T) {
	tests := []struct {
		name         string
		timeout, ctx time.Duration
	}{
		{name: "sink timeout", timeout: 100 * time.Millisecond, ctx: time.Minute},
		{name: "caller deadline", timeout: time.Minute, ctx: 100 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pd := alerttest.NewPagerDuty(t)
			pd.FailAll(alerttest.Hang())
			n := newNotifier(t, pd, tc.timeout)
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctx)
			defer cancel()
			alerttest.NotifyHung(t, ctx, n, sample())
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     pagerduty.Config
		wantErr string
	}{
		{name: "ok", cfg: pagerduty.Config{RoutingKey: canaryKey}},
		{name: "no key", cfg: pagerduty.Config{}, wantErr: "routing key is required"},
		{name: "short key", cfg: pagerduty.Config{RoutingKey: canaryKey[:31]}, wantErr: "31 characters"},
		{name: "bad URL", cfg: pagerduty.Config{RoutingKey: canaryKey, EventsURL: "events.pagerduty.com"}, wantErr: "events URL"},
		{name: "negative timeout", cfg: pagerduty.Config{RoutingKey: canaryKey, Timeout: -1}, wantErr: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pagerduty.New(tc.cfg)
			alerttest.CheckNewError(t, err, tc.wantErr, "CANARY")
		})
	}
}

func BenchmarkNotify(b *testing.B) {
	pd := alerttest.NewPagerDuty(b)
	alerttest.BenchNotify(b, newNotifier(b, pd, 0), sample(), pd.Reset)
}
