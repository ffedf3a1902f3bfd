package alerttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

// Notification returns the trigger the sink tests deliver: a FATAL of
// trading:engine on host db1, first seen at first and raised 30 s later,
// with details, an action, a runbook and a log tail. Tests change the
// fields their sink cares about.
func Notification(first time.Time) *alert.Notification {
	return &alert.Notification{
		Alert: alert.Alert{
			Key:       alert.Key("db1", "trading:engine", alert.CondFatal),
			Kind:      alert.Trigger,
			Host:      "db1",
			Group:     "trading",
			Program:   "engine",
			Condition: alert.CondFatal,
			Severity:  alert.Critical,
			Summary:   "trading:engine entered FATAL",
			Details:   map[string]string{"exit_status": "1"},
			Action:    "halted trading",
			Runbook:   "https://wiki.example/runbooks/fatal",
			LogTail:   "panic: boom",
			Listener:  "crashpager",
			TraceID:   "trace-1",
			Time:      first.Add(30 * time.Second),
		},
		IncidentID: "inc-1",
		Count:      3,
		FirstSeen:  first,
	}
}

// NotifyHung delivers n through notifier to a fake scripted to hang and
// checks that the attempt fails as retryable within a generous bound (a
// bound, not a speed goal: a hung service must never hold the sender). It
// returns the error for further checks.
func NotifyHung(tb testing.TB, ctx context.Context, notifier alert.Notifier, n *alert.Notification) error {
	tb.Helper()
	start := time.Now()
	_, err := notifier.Notify(ctx, n)
	if ok, _ := alert.IsRetryable(err); !ok || err == nil {
		tb.Errorf("err = %v, want retryable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		tb.Errorf("Notify took %s against a hung server", d)
	}
	return err
}

// CheckNewError checks the error of a sink's New against want: none when
// want is empty, else one containing want and none of the secrets.
func CheckNewError(tb testing.TB, err error, want string, secrets ...string) {
	tb.Helper()
	switch {
	case want == "" && err != nil:
		tb.Fatalf("New: %v", err)
	case want == "":
		return
	case err == nil || !strings.Contains(err.Error(), want):
		tb.Fatalf("New error = %v, want %q", err, want)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			tb.Errorf("New error reveals a secret: %v", err)
		}
	}
}

// BenchNotify is a sink's delivery benchmark: it delivers n through
// notifier b.N times, calls reset on the fake every 1000 deliveries (so
// that its record stays small), and reports deliveries per second.
func BenchNotify(b *testing.B, notifier alert.Notifier, n *alert.Notification, reset func()) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := notifier.Notify(ctx, n); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			reset()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
