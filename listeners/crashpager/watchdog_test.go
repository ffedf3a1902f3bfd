package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

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
			tg := amTarget{Sink: "am", URLs: []string{am1.URL(), am2.URL() + "/"}}
			if tt.auth {
				am1.RequireBasicAuth("sg", watchdogCanary)
				am2.RequireBasicAuth("sg", watchdogCanary)
				tg.Username, tg.Password = "sg", watchdogCanary
			}
			if tt.fault != nil {
				am2.Script(*tt.fault)
			}
			w := newWatchdog([]amTarget{tg}, "host1", time.Minute, zerolog.Nop())
			now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
			w.now = func() time.Time { return now }
			w.started = now.Add(-time.Hour)
			err := w.post(context.Background(), tg)
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
	tg := amTarget{Sink: "am", URLs: []string{closedPortURL(t)}, Username: "sg", Password: watchdogCanary}
	w := newWatchdog([]amTarget{tg}, "host1", time.Minute, zerolog.Nop())
	err := w.post(context.Background(), tg)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("post = %v, want connection refused", err)
	}
	if strings.Contains(err.Error(), watchdogCanary) {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestWatchdogRunReposts(t *testing.T) {
	am := alerttest.NewAlertmanager(t)
	w := newWatchdog([]amTarget{{Sink: "am", URLs: []string{am.URL()}}}, "host1", 20*time.Millisecond, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.run(ctx); close(done) }()
	if !am.WaitUntil(10*time.Second, func() bool { return am.Posts() >= 3 }) {
		t.Errorf("%d posts after 10s, want 3", am.Posts())
	}
	cancel()
	<-done
}
