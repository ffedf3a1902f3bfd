package alertmanager_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alertmanager"
	"github.com/superguard/superguard/pkg/alert/alerttest"
)

const canaryPassword = "CANARY-am-password-42"

func sample() *alert.Notification {
	n := alerttest.Notification(time.Now().Add(-time.Minute).UTC().Truncate(time.Second))
	n.Details["from_state"] = "BACKOFF"
	return n
}

func newNotifier(t testing.TB, cfg alertmanager.Config, ams ...*alerttest.Alertmanager) *alertmanager.Notifier {
	t.Helper()
	for _, am := range ams {
		cfg.URLs = append(cfg.URLs, am.URL())
	}
	n, err := alertmanager.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func TestTriggerPostsToEveryReplica(t *testing.T) {
	am1, am2 := alerttest.NewAlertmanager(t), alerttest.NewAlertmanager(t)
	n := newNotifier(t, alertmanager.Config{GeneratorURL: "http://superguard.example/"}, am1, am2)
	nt := sample()
	if _, err := n.Notify(context.Background(), nt); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	for i, am := range []*alerttest.Alertmanager{am1, am2} {
		alerts := am.Alerts()
		if am.Posts() != 1 || len(alerts) != 4 {
			t.Fatalf("replica %d: %d posts, %d alerts: want 1 post of 4 alerts", i, am.Posts(), len(alerts))
		}
		a := alerts[0]
		wantLabels := map[string]string{
			"alertname": "SuperguardFatal", "host": "db1", "instance": "db1", "group": "trading", "program": "engine",
			"condition": "fatal", "severity": "critical", "dedup_key": nt.Key,
		}
		if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
			t.Errorf("labels = %v, want %v", a.Labels, wantLabels)
		}
		wantAnn := map[string]string{
			"summary": nt.Summary, "description": "exit_status: 1\nfrom_state: BACKOFF", "action": "halted trading",
			"runbook_url": nt.Runbook, "log_tail": "panic: boom", "count": "3", "incident_id": "inc-1",
			"listener": "crashpager", "trace_id": "trace-1",
		}
		if fmt.Sprint(a.Annotations) != fmt.Sprint(wantAnn) {
			t.Errorf("annotations = %v, want %v", a.Annotations, wantAnn)
		}
		if !a.StartsAt.Equal(nt.FirstSeen) || !a.EndsAt.IsZero() || a.GeneratorURL != "http://superguard.example/" {
			t.Errorf("startsAt %s endsAt %s generatorURL %q: want first seen, no end", a.StartsAt, a.EndsAt, a.GeneratorURL)
		}
		for _, other := range alerts[1:] {
			if other.Labels["severity"] == "critical" || other.Firing(time.Now().Add(time.Second)) {
				t.Errorf("other-severity copy %v should be resolved", other.Labels)
			}
		}
	}
}

func TestResolveTimeoutSetsEndsAt(t *testing.T) {
	am := alerttest.NewAlertmanager(t)
	n := newNotifier(t, alertmanager.Config{ResolveTimeout: 5 * time.Minute, Refresh: time.Minute}, am)
	before := time.Now()
	if _, err := n.Notify(context.Background(), sample()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	a := am.Alerts()[0]
	if a.EndsAt.Before(before.Add(5*time.Minute).Truncate(time.Second)) || a.EndsAt.After(time.Now().Add(5*time.Minute)) {
		t.Errorf("endsAt = %s, want now + 5m", a.EndsAt)
	}
	if n.RefreshInterval() != time.Minute {
		t.Errorf("refresh = %s", n.RefreshInterval())
	}
}

func TestResolveAndSeverityChanges(t *testing.T) {
	am := alerttest.NewAlertmanager(t)
	n := newNotifier(t, alertmanager.Config{}, am)
	ctx := context.Background()
	nt := sample()
	steps := []struct {
		name       string
		kind       alert.Kind
		sev        alert.Severity
		wantFiring []string // severities firing afterwards
	}{
		{name: "warning", kind: alert.Trigger, sev: alert.Warning, wantFiring: []string{"warning"}},
		{name: "upgrade to critical", kind: alert.Trigger, sev: alert.Critical, wantFiring: []string{"critical"}},
		{name: "quiet hours lower it", kind: alert.Trigger, sev: alert.Error, wantFiring: []string{"error"}},
		{name: "resolve", kind: alert.Resolve, sev: alert.Error, wantFiring: nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			nt.Kind, nt.Severity = st.kind, st.sev
			if _, err := n.Notify(ctx, nt); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			var firing []string
			// A little ahead of now: endsAt = now counts as ended.
			at := time.Now().Add(time.Millisecond)
			for _, a := range am.Latest("dedup_key", nt.Key) {
				if a.Firing(at) {
					firing = append(firing, a.Labels["severity"])
				}
			}
			if fmt.Sprint(firing) != fmt.Sprint(st.wantFiring) {
				t.Errorf("firing severities = %v, want %v", firing, st.wantFiring)
			}
		})
	}
}

func TestAlertName(t *testing.T) {
	tests := []struct {
		c    alert.Condition
		want string
	}{
		{alert.CondFatal, "SuperguardFatal"},
		{alert.CondExited, "SuperguardExited"},
		{alert.CondHeartbeat, "SuperguardHeartbeat"},
		{"data_feed-stale", "SuperguardDataFeedStale"},
		{"", "Superguard"},
	}
	for _, tc := range tests {
		t.Run(string(tc.c), func(t *testing.T) {
			if got := alertmanager.AlertName(tc.c); got != tc.want {
				t.Errorf("AlertName(%q) = %q, want %q", tc.c, got, tc.want)
			}
		})
	}
}

func TestOddInputStaysValid(t *testing.T) {
	am := alerttest.NewAlertmanager(t) // fails the test on any schema violation
	n := newNotifier(t, alertmanager.Config{}, am)
	nt := sample()
	nt.Host = "bad\xffhost"
	nt.Group, nt.Program = "", ""
	nt.LogTail = strings.Repeat("ü", 10000) + "newest"
	nt.FirstSeen = time.Now().Add(time.Hour) // a clock ahead of ours
	nt.Kind = alert.Resolve
	if _, err := n.Notify(context.Background(), nt); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	a := am.Alerts()[0]
	if _, ok := a.Labels["group"]; ok {
		t.Errorf("empty group became a label: %v", a.Labels)
	}
	if tail := a.Annotations["log_tail"]; len(tail) > 9<<10 || !strings.HasSuffix(tail, "newest") {
		t.Errorf("log_tail has %d bytes, want the newest 8 KiB", len(tail))
	}
}

func TestReplicaFailures(t *testing.T) {
	tests := []struct {
		name      string
		faults    [2]*alerttest.Fault // nil: the replica answers normally
		refuse    [2]bool
		retryable bool
		after     time.Duration
		failed    []int // replicas the error must name
	}{
		{name: "one 500", faults: [2]*alerttest.Fault{nil, ptr(alerttest.Status(500))}, retryable: true, failed: []int{1}},
		{name: "one 400", faults: [2]*alerttest.Fault{ptr(alerttest.Status(400)), nil}, failed: []int{0}},
		{name: "400 beats 500", faults: [2]*alerttest.Fault{ptr(alerttest.Status(400)), ptr(alerttest.Status(500))}, failed: []int{0, 1}},
		{name: "longest Retry-After", faults: [2]*alerttest.Fault{ptr(alerttest.RateLimited(10 * time.Second)),
			{Status: 503, Header: http.Header{"Retry-After": {"20"}}}}, retryable: true, after: 20 * time.Second, failed: []int{0, 1}},
		{name: "429 bare", faults: [2]*alerttest.Fault{ptr(alerttest.RateLimited(0)), nil}, retryable: true, failed: []int{0}},
		{name: "408", faults: [2]*alerttest.Fault{nil, ptr(alerttest.Status(408))}, retryable: true, failed: []int{1}},
		{name: "404 wrong path", faults: [2]*alerttest.Fault{nil, ptr(alerttest.Status(404))}, failed: []int{1}},
		{name: "hang", faults: [2]*alerttest.Fault{ptr(alerttest.Hang()), nil}, retryable: true, failed: []int{0}},
		{name: "drop", faults: [2]*alerttest.Fault{nil, ptr(alerttest.Drop())}, retryable: true, failed: []int{1}},
		{name: "refused", refuse: [2]bool{true, false}, retryable: true, failed: []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ams := []*alerttest.Alertmanager{alerttest.NewAlertmanager(t), alerttest.NewAlertmanager(t)}
			for i, am := range ams {
				if tc.faults[i] != nil {
					am.Script(*tc.faults[i])
				}
				if tc.refuse[i] {
					am.Refuse()
				}
			}
			n := newNotifier(t, alertmanager.Config{Timeout: 300 * time.Millisecond}, ams...)
			_, err := n.Notify(context.Background(), sample())
			var de *alert.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a DeliveryError", err)
			}
			t.Logf("error: %v", err)
			if de.Retryable != tc.retryable || de.RetryAfter != tc.after {
				t.Errorf("retryable %v after %s, want %v after %s", de.Retryable, de.RetryAfter, tc.retryable, tc.after)
			}
			for i, am := range ams {
				named := strings.Contains(err.Error(), am.URL()+":")
				want := false
				for _, f := range tc.failed {
					want = want || f == i
				}
				if named != want {
					t.Errorf("error names replica %d (%s): %v, want %v", i, am.URL(), named, want)
				}
				if !want && am.Posts() != 1 {
					t.Errorf("healthy replica %d got %d posts, want 1", i, am.Posts())
				}
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%d of 2 alertmanagers failed", len(tc.failed))) {
				t.Errorf("error %q does not count the failures", err)
			}
		})
	}
}

func ptr(f alerttest.Fault) *alerttest.Fault { return &f }

func TestBasicAuth(t *testing.T) {
	tests := []struct {
		name      string
		password  string
		wantError bool
	}{
		{name: "right password", password: canaryPassword},
		{name: "wrong password", password: canaryPassword + "-old", wantError: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			am := alerttest.NewAlertmanager(t)
			am.RequireBasicAuth("superguard", canaryPassword)
			am.ExpectViolations()
			n := newNotifier(t, alertmanager.Config{Username: "superguard", Password: tc.password}, am)
			_, err := n.Notify(context.Background(), sample())
			if !tc.wantError {
				if err != nil {
					t.Fatalf("Notify: %v", err)
				}
				return
			}
			if ok, _ := alert.IsRetryable(err); ok || err == nil {
				t.Fatalf("err = %v, want a permanent 401", err)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

// leakyTransport fails every request with an error quoting its URL and
// headers, Authorization included, as a careless proxy would.
type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_, pass, _ := r.BasicAuth()
	return nil, fmt.Errorf("proxy refused %s for password %s", r.URL, pass)
}

func TestPasswordNeverInErrors(t *testing.T) {
	n, err := alertmanager.New(alertmanager.Config{
		URLs: []string{"http://am1.example:9093", "http://am2.example:9093"}, Username: "sg", Password: canaryPassword,
		HTTPClient: &http.Client{Transport: leakyTransport{}},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = n.Notify(context.Background(), sample())
	if ok, _ := alert.IsRetryable(err); !ok || err == nil {
		t.Fatalf("err = %v, want retryable", err)
	}
	if strings.Contains(err.Error(), canaryPassword) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error = %v: want the password redacted", err)
	}
}

func TestTimeoutIsBounded(t *testing.T) {
	am := alerttest.NewAlertmanager(t)
	am.FailAll(alerttest.Hang())
	n := newNotifier(t, alertmanager.Config{Timeout: 100 * time.Millisecond}, am)
	alerttest.NotifyHung(t, context.Background(), n, sample())
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     alertmanager.Config
		wantErr string
		refresh time.Duration
	}{
		{name: "defaults", cfg: alertmanager.Config{URLs: []string{"http://am:9093"}}, refresh: time.Minute},
		{name: "path prefix", cfg: alertmanager.Config{URLs: []string{"https://mon.example/alertmanager/"}, Refresh: 20 * time.Second}, refresh: 20 * time.Second},
		{name: "no URLs", cfg: alertmanager.Config{}, wantErr: "at least one URL"},
		{name: "relative URL", cfg: alertmanager.Config{URLs: []string{"am:9093"}}, wantErr: "urls[0]: not an absolute"},
		{name: "credentials in URL", cfg: alertmanager.Config{URLs: []string{"http://ok:9093", "http://sg:" + canaryPassword + "@am:9093"}}, wantErr: "urls[1]"},
		{name: "query", cfg: alertmanager.Config{URLs: []string{"http://am:9093/?x=1"}}, wantErr: "without query"},
		{name: "password without user", cfg: alertmanager.Config{URLs: []string{"http://am:9093"}, Password: canaryPassword}, wantErr: "without a username"},
		{name: "resolve timeout too short", cfg: alertmanager.Config{URLs: []string{"http://am:9093"}, ResolveTimeout: 90 * time.Second}, wantErr: "at least twice the refresh"},
		{name: "negative timeout", cfg: alertmanager.Config{URLs: []string{"http://am:9093"}, Timeout: -1}, wantErr: "negative"},
		{name: "bad generator URL", cfg: alertmanager.Config{URLs: []string{"http://am:9093"}, GeneratorURL: "::"}, wantErr: "generator URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := alertmanager.New(tc.cfg)
			alerttest.CheckNewError(t, err, tc.wantErr, canaryPassword)
			if err == nil && n.RefreshInterval() != tc.refresh {
				t.Errorf("refresh = %s, want %s", n.RefreshInterval(), tc.refresh)
			}
		})
	}
}

func TestPathPrefix(t *testing.T) {
	am := alerttest.NewAlertmanager(t)
	n, err := alertmanager.New(alertmanager.Config{URLs: []string{am.URL() + "/"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := n.Notify(context.Background(), sample()); err != nil || am.Posts() != 1 {
		t.Errorf("Notify: %v, posts %d: a trailing slash must still reach /api/v2/alerts", err, am.Posts())
	}
}

func BenchmarkNotify(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			ams := make([]*alerttest.Alertmanager, replicas)
			for i := range ams {
				ams[i] = alerttest.NewAlertmanager(b)
			}
			alerttest.BenchNotify(b, newNotifier(b, alertmanager.Config{}, ams...), sample(), func() {
				for _, am := range ams {
					am.Reset()
				}
			})
		})
	}
}
