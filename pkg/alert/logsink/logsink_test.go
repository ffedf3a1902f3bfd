package logsink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/alert/logsink"
	"github.com/superguard/superguard/pkg/logging"
)

func sample() *alert.Notification {
	n := alerttest.Notification(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	n.Runbook = ""
	return n
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestOneLinePerNotification(t *testing.T) {
	var buf bytes.Buffer
	log, err := logging.New(&buf, "haltguard", "debug")
	if err != nil {
		t.Fatal(err)
	}
	n := logsink.New(log)
	rc, err := n.Notify(context.Background(), sample())
	if err != nil || rc.Ref != "" {
		t.Fatalf("Notify = %+v, %v", rc, err)
	}
	got := lines(t, &buf)
	if len(got) != 1 {
		t.Fatalf("%d lines, want 1", len(got))
	}
	l := got[0]
	want := map[string]any{
		"level": "error", "message": "alert", "listener": "haltguard", "sink": "log", "reported_by": "crashpager",
		"kind": "trigger", "key": "db1/trading:engine/fatal", "incident_id": "inc-1", "host": "db1", "group": "trading",
		"program": "engine", "condition": "fatal", "severity": "critical", "summary": "trading:engine entered FATAL",
		"count": float64(3), "action": "halted trading", "trace_id": "trace-1", "log_tail": "panic: boom",
		"first_seen": "2024-05-01T10:00:00Z", "observed": "2024-05-01T10:00:30Z",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s = %v, want %v", k, l[k], v)
		}
	}
	if d, _ := l["details"].(map[string]any); d["exit_status"] != "1" {
		t.Errorf("details = %v", l["details"])
	}
}

func TestLevels(t *testing.T) {
	tests := []struct {
		kind alert.Kind
		sev  alert.Severity
		want string
	}{
		{alert.Trigger, alert.Critical, "error"},
		{alert.Trigger, alert.Error, "error"},
		{alert.Trigger, alert.Warning, "warn"},
		{alert.Trigger, alert.Info, "info"},
		{alert.Resolve, alert.Critical, "info"},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind)+"/"+tc.sev.String(), func(t *testing.T) {
			var buf bytes.Buffer
			n := logsink.New(zerolog.New(&buf))
			nt := sample()
			nt.Kind, nt.Severity = tc.kind, tc.sev
			if _, err := n.Notify(context.Background(), nt); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if got := lines(t, &buf); len(got) != 1 || got[0]["level"] != tc.want {
				t.Errorf("lines = %v, want one at %s", got, tc.want)
			}
		})
	}
}

func TestNeverFails(t *testing.T) {
	var buf bytes.Buffer
	n := logsink.New(zerolog.New(&buf))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	nt := sample()
	nt.LogTail = strings.Repeat("ü", 10000) + "newest"
	if _, err := n.Notify(ctx, nt); err != nil {
		t.Fatalf("Notify with a cancelled context: %v", err)
	}
	l := lines(t, &buf)[0]
	if tail, _ := l["log_tail"].(string); len(tail) > 5<<10 || !strings.HasSuffix(tail, "newest") {
		t.Errorf("log_tail has %d bytes, want the newest 4 KiB", len(tail))
	}
	// A logger whose writer fails is still not a delivery failure.
	if _, err := logsink.New(zerolog.New(failingWriter{})).Notify(context.Background(), sample()); err != nil {
		t.Errorf("Notify with a broken writer: %v", err)
	}
	if _, err := n.Notify(context.Background(), nil); err == nil {
		t.Error("a nil notification was accepted")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestConcurrentNotifyKeepsLinesWhole(t *testing.T) {
	var buf testsupport.SyncBuffer
	n := logsink.New(zerolog.New(&buf))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := n.Notify(context.Background(), sample()); err != nil {
					t.Errorf("Notify: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if got := len(lines(t, bytes.NewBufferString(buf.String()))); got != 400 {
		t.Errorf("%d lines, want 400", got)
	}
}

func BenchmarkNotify(b *testing.B) {
	n := logsink.New(zerolog.New(io.Discard))
	nt := sample()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Notify(ctx, nt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
}
