package main

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert/alertmanager"
	"github.com/superguard/superguard/pkg/alert/alerttest"
)

const watchdogCanary = "CANARY-am-password-51c2"

func TestWatchdogPost(t *testing.T) {
	tests := []struct {
		name    string
		fault   *alerttest.Fault
		auth    bool
		wantErr string
	}{
		{name: "posted"},
		{name: "posted with basic auth", auth: true},
		{name: "server error", fault: &alerttest.Fault{Status: 500}, wantErr: "status 500"},
		{name: "unavailable", fault: &alerttest.Fault{Status: 503}, wantErr: "status 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			am1, am2 := alerttest.NewAlertmanager(t), alerttest.NewAlertmanager(t)
			cfg := alertmanager.Config{URLs: []string{am1.URL(), am2.URL() + "/"}}
			if tt.auth {
				am1.RequireBasicAuth("sg", watchdogCanary)
				am2.RequireBasicAuth("sg", watchdogCanary)
				cfg.Username, cfg.Password = "sg", watchdogCanary
			}
			if tt.fault != nil {
				am2.Script(*tt.fault)
			}
			w := newWatchdog([]amSink{amNotifier(t, cfg)}, "host1", time.Minute)
			now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
			w.now = func() time.Time { return now }
			w.started = now.Add(-time.Hour)
			err := w.post(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), am2.URL()) {
					t.Fatalf("post = %v, want an error naming %s with %q", err, am2.URL(), tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("post: %v", err)
			}
			got := am1.Latest("alertname", "Watchdog")
			if len(got) != 1 {
				t.Fatalf("first replica got %d Watchdog alerts, want 1", len(got))
			}
			a := got[0]
			if a.Labels["host"] != "host1" || a.Labels["listener"] != "crashpager" {
				t.Errorf("labels %v", a.Labels)
			}
			if !a.EndsAt.Equal(now.Add(3*time.Minute)) || !a.Firing(now.Add(2*time.Minute)) || a.Firing(now.Add(4*time.Minute)) {
				t.Errorf("endsAt %s: want firing for three intervals", a.EndsAt)
			}
		})
	}
}

func TestWatchdogRefusedConnectionHidesPassword(t *testing.T) {
	w := newWatchdog([]amSink{amNotifier(t, alertmanager.Config{URLs: []string{closedPortURL(t)}, Username: "sg", Password: watchdogCanary})},
		"host1", time.Minute)
	err := w.post(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("post = %v, want connection refused", err)
	}
	if strings.Contains(err.Error(), watchdogCanary) {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestWatchdogRunReposts(t *testing.T) {
	am := alerttest.NewAlertmanager(t)
	w := newWatchdog([]amSink{amNotifier(t, alertmanager.Config{URLs: []string{am.URL()}})}, "host1", 20*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var healthErr atomic.Pointer[error]
	healthy := func(context.Context) error {
		if p := healthErr.Load(); p != nil {
			return *p
		}
		return nil
	}
	var logs testsupport.SyncBuffer
	go func() {
		beacon{name: "watchdog alert", interval: w.interval, send: w.post, healthy: healthy, log: zerolog.New(&logs)}.run(ctx)
		close(done)
	}()
	if !am.WaitUntil(10*time.Second, func() bool { return am.Posts() >= 3 }) {
		t.Errorf("%d posts after 10s, want 3", am.Posts())
	}
	// Nothing can be delivered: the Watchdog goes silent, and comes back.
	degraded := errors.New("the state store cannot be written: attempt to write a readonly database")
	healthErr.Store(&degraded)
	testsupport.WaitFor(t, 10*time.Second, "the watchdog withheld", func() bool {
		return strings.Contains(logs.String(), "watchdog alert withheld")
	})
	posts := am.Posts()
	testsupport.WaitFor(t, 10*time.Second, "two more withheld rounds", func() bool {
		return strings.Count(logs.String(), "watchdog alert still withheld") >= 2
	})
	if am.Posts() != posts {
		t.Errorf("%d posts while withheld", am.Posts()-posts)
	}
	healthErr.Store(nil)
	if !am.WaitUntil(10*time.Second, func() bool { return am.Posts() > posts }) {
		t.Error("the watchdog did not resume")
	}
	cancel()
	<-done
}

// amNotifier builds an Alertmanager sink for the Watchdog.
func amNotifier(t *testing.T, cfg alertmanager.Config) amSink {
	t.Helper()
	n, err := alertmanager.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return amSink{name: "am", n: n}
}
