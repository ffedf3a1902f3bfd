package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
)

const deadManCanary = "CANARY-dm-7f3a9"

func TestDeadManPing(t *testing.T) {
	var (
		mu     sync.Mutex
		hits   []string
		status = http.StatusOK
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits = append(hits, r.Method+" "+r.URL.Path)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	refused := closedPortURL(t)

	tests := []struct {
		name    string
		url     string
		method  string
		status  int
		wantErr string
		wantHit string
	}{
		{name: "get ok", url: srv.URL + "/ping/" + deadManCanary, method: "GET", status: 200,
			wantHit: "GET /ping/" + deadManCanary},
		{name: "post ok", url: srv.URL + "/" + deadManCanary, method: "POST", status: 204,
			wantHit: "POST /" + deadManCanary},
		{name: "server error", url: srv.URL + "/" + deadManCanary, method: "GET", status: 500,
			wantErr: "dead-man ping: status 500"},
		{name: "refused", url: refused + "/" + deadManCanary + "?key=" + deadManCanary, method: "GET",
			wantErr: "dead-man ping: dial tcp"},
		{name: "hangs", url: hang.URL + "/" + deadManCanary, method: "GET", wantErr: "dead-man ping: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			hits, status = nil, tt.status
			mu.Unlock()
			cfg := DeadManConfig{Method: tt.method, Interval: time.Minute, Timeout: 300 * time.Millisecond, URL: tt.url}
			d := newDeadMan(cfg, nil, zerolog.Nop())
			err := d.ping(context.Background())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ping: %v", err)
				}
			} else {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("ping = %v, want prefix %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), deadManCanary) {
					t.Fatalf("error leaks the URL: %v", err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.wantHit != "" && (len(hits) != 1 || hits[0] != tt.wantHit) {
				t.Errorf("hits %v, want [%s]", hits, tt.wantHit)
			}
		})
	}
}

func TestDeadManRunLogsWithoutSecret(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	var logs testsupport.SyncBuffer
	cfg := DeadManConfig{Method: "GET", Interval: 20 * time.Millisecond, Timeout: time.Second,
		URL: srv.URL + "/" + deadManCanary}
	d := newDeadMan(cfg, nil, zerolog.New(&logs))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		beacon{name: "dead-man ping", interval: d.interval, send: d.ping, log: zerolog.New(&logs)}.run(ctx)
		close(done)
	}()
	testsupport.WaitFor(t, 10*time.Second, "three pings", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return n >= 3
	})
	cancel()
	<-done
	out := logs.String()
	for _, want := range []string{`"message":"dead-man ping not sent"`, `"consecutive_failures":1`, `"message":"dead-man ping sent again"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, deadManCanary) {
		t.Errorf("log leaks the URL:\n%s", out)
	}
}

func TestURLSecrets(t *testing.T) {
	got := urlSecrets("https://user:pw@hc.example/ping/abc%20def?token=xyz")
	want := []string{"https://user:pw@hc.example/ping/abc%20def?token=xyz", "token=xyz", "ping/abc%20def", "ping/abc def", "user:pw", "pw"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("urlSecrets = %q, want %q", got, want)
	}
}

// closedPortURL returns an http URL on a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}
