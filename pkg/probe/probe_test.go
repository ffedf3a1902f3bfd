package probe

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	p := Process{Group: "trading", Name: "strat_07", PID: 4242}
	for in, want := range map[string]string{
		"http://127.0.0.1:80%(process_num)02d/health": "http://127.0.0.1:8007/health",
		"/run/%(group_name)s/%(process_name)s.tick":   "/run/trading/strat_07.tick",
		"%(program_name)s pid %(pid)d":                "strat pid 4242",
		"no placeholders":                             "no placeholders",
		"%(unknown)s stays":                           "%(unknown)s stays",
	} {
		if got := Expand(in, p); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
	if n := (Process{Name: "feed"}).Num(); n != 0 {
		t.Errorf("Num of feed = %d", n)
	}
	for _, bad := range []string{"%(process_num)s", "%(group_name)d", "%(host)s"} {
		if err := CheckTemplate(bad); err == nil {
			t.Errorf("CheckTemplate(%q) = nil", bad)
		}
	}
	if err := CheckTemplate("http://h:90%(process_num)02d/%(process_name)s"); err != nil {
		t.Errorf("CheckTemplate: %v", err)
	}
}

func TestAssertions(t *testing.T) {
	body := map[string]any{"status": "degraded", "md_lag_ms": 2150.0, "feed_connected": true,
		"feeds": map[string]any{"equities": map[string]any{"lag_ms": 12.0}}}
	tests := []struct {
		src      string
		ok       bool
		evidence string
	}{
		{`feed_connected == true`, true, ""},
		{`feeds.equities.lag_ms < 500`, true, ""},
		{`md_lag_ms < 500`, false, "md_lag_ms < 500 is false (md_lag_ms=2150)"},
		{`status == "healthy"`, false, `status == "healthy" is false (status="degraded")`},
		{`queue_depth < 10`, false, "queue_depth < 10 cannot be evaluated"},
	}
	for _, tc := range tests {
		a, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		ok, ev := a.Check(body)
		if ok != tc.ok || !strings.Contains(ev, tc.evidence) {
			t.Errorf("%s: ok %v, evidence %q; want %v, %q", tc.src, ok, ev, tc.ok, tc.evidence)
		}
	}
	if _, ev := mustCompile(t, `queue_depth < 10`).Check(body); !strings.Contains(ev, "queue_depth missing") {
		t.Errorf("missing field evidence = %q", ev)
	}
	for _, bad := range []string{"", "md_lag_ms <", `status == "a" +`} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("Compile(%q) = nil error", bad)
		}
	}
}

func mustCompile(t *testing.T, src string) *Assertion {
	t.Helper()
	a, err := Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestStale(t *testing.T) {
	now := time.Date(2026, 12, 3, 14, 30, 0, 0, time.UTC)
	tests := []struct {
		format TimeFormat
		value  any
		ok     bool
		want   string
	}{
		{RFC3339, "2026-12-03T14:29:58Z", true, "2s old"},
		{RFC3339, "2026-12-03T14:29:00Z", false, "is 1m0s old (max 10s): the data is stale"},
		{UnixSec, float64(now.Unix() - 3), true, "3s old"},
		{UnixMilli, float64(now.UnixMilli() - 45_000), false, "45s old"},
		{RFC3339, "2026-12-03T14:30:05Z", true, "5s ahead of this host's clock"},
		{RFC3339, 12.0, false, "want an RFC 3339 string"},
		{UnixSec, "soon", false, "want a number"},
	}
	for _, tc := range tests {
		s, err := CompileStale(Stale{Field: "last_tick", Format: tc.format, MaxAge: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ok, _, _, ev := s.Check(map[string]any{"last_tick": tc.value}, now)
		if ok != tc.ok || !strings.Contains(ev, tc.want) {
			t.Errorf("%s %v: ok %v %q, want %v %q", tc.format, tc.value, ok, ev, tc.ok, tc.want)
		}
	}
	s, _ := CompileStale(Stale{Field: "last_tick", Format: RFC3339, MaxAge: time.Second})
	if ok, _, _, ev := s.Check(map[string]any{}, now); ok || !strings.Contains(ev, "no timestamp") {
		t.Errorf("missing: %v %q", ok, ev)
	}
	if _, err := CompileStale(Stale{Field: "x", Format: "iso", MaxAge: time.Second}); err == nil {
		t.Error("bad format accepted")
	}
}

func probeCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"healthy","md_lag_ms":20}`))
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/html", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>ok</html>")) })
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewUnstartedServer(mux)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	refused := closedPort(t)
	client := NewClient()
	p := Process{Group: "g", Name: "a"}
	tests := []struct {
		name string
		h    HTTP
		ok   bool
		want string
	}{
		{"2xx", HTTP{URL: srv.URL + "/ok"}, true, "HTTP 200"},
		{"assertions hold", HTTP{URL: srv.URL + "/ok", Asserts: []*Assertion{mustCompile(t, `status == "healthy"`), mustCompile(t, "md_lag_ms < 500")}}, true, "HTTP 200"},
		{"assertion fails", HTTP{URL: srv.URL + "/ok", Asserts: []*Assertion{mustCompile(t, "md_lag_ms < 5")}}, false, "md_lag_ms < 5 is false (md_lag_ms=20)"},
		{"500", HTTP{URL: srv.URL + "/500"}, false, "HTTP 500 (want 2xx)"},
		{"500 expected", HTTP{URL: srv.URL + "/500", Statuses: []int{500}}, true, "HTTP 500"},
		{"body lacks", HTTP{URL: srv.URL + "/html", BodyContains: "healthy"}, false, `lacks "healthy"`},
		{"body regex", HTTP{URL: srv.URL + "/html", BodyRegex: regexp.MustCompile(`<html>\w+`)}, true, "HTTP 200"},
		{"not JSON", HTTP{URL: srv.URL + "/html", Asserts: []*Assertion{mustCompile(t, "ok")}}, false, "not a JSON object"},
		{"hangs", HTTP{URL: srv.URL + "/hang"}, false, "no answer within"},
		{"refused", HTTP{URL: "http://" + refused + "/health"}, false, "connection refused"},
		{"no such host", HTTP{URL: "http://strategy.invalid/health"}, false, "does not resolve"},
		{"untrusted TLS", HTTP{URL: tlsSrv.URL + "/ok"}, false, "TLS certificate not accepted"},
		{"plain HTTP spoken TLS", HTTP{URL: "https://" + strings.TrimPrefix(srv.URL, "http://") + "/ok"}, false, "TLS handshake failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.h.Client = client
			// Only the hanging server needs its deadline to pass; the others
			// get a generous one (a TLS handshake on a loaded machine took
			// more than 300 ms).
			within := 10 * time.Second
			if tc.name == "hangs" {
				within = 300 * time.Millisecond
			}
			r := tc.h.Probe(probeCtx(t, within), p)
			if r.OK != tc.ok || !strings.Contains(r.Evidence, tc.want) {
				t.Errorf("Probe = ok %v %q, want %v %q", r.OK, r.Evidence, tc.ok, tc.want)
			}
		})
	}
}

// closedPort is an address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	if r := (&TCP{Address: ln.Addr().String()}).Probe(probeCtx(t, time.Second), Process{}); !r.OK {
		t.Errorf("open port: %q", r.Evidence)
	}
	if r := (&TCP{Address: closedPort(t)}).Probe(probeCtx(t, time.Second), Process{}); r.OK || !strings.Contains(r.Evidence, "refused") {
		t.Errorf("closed port: %v %q", r.OK, r.Evidence)
	}
}

func TestCommand(t *testing.T) {
	p := Process{Group: "trading", Name: "strat_01", PID: 77}
	r := (&Command{Argv: []string{"/bin/sh", "-c", `echo "$SUPERGUARD_PROCESS %(process_num)d"`}}).Probe(probeCtx(t, 5*time.Second), p)
	if !r.OK || strings.TrimSpace(r.Body) != "trading:strat_01 1" {
		t.Errorf("exit 0: %v %q body %q", r.OK, r.Evidence, r.Body)
	}
	r = (&Command{Argv: []string{"/bin/sh", "-c", "echo stuck >&2; exit 3"}}).Probe(probeCtx(t, 5*time.Second), p)
	if r.OK || r.Evidence != "exit status 3" || !strings.Contains(r.Body, "stuck") {
		t.Errorf("exit 3: %v %q body %q", r.OK, r.Evidence, r.Body)
	}
	// A command that hangs is killed with its children at the deadline.
	dir := t.TempDir()
	start := time.Now()
	r = (&Command{Argv: []string{"/bin/sh", "-c", "sleep 30 & echo $! > " + dir + "/child; wait"}}).Probe(probeCtx(t, 300*time.Millisecond), p)
	if r.OK || !strings.Contains(r.Evidence, "killed") {
		t.Errorf("hang: %v %q", r.OK, r.Evidence)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hung command held the probe for %s", d)
	}
	b, err := os.ReadFile(filepath.Join(dir, "child"))
	if err == nil {
		pid := strings.TrimSpace(string(b))
		testsupportWaitGone(t, pid)
	}
	if r := (&Command{Argv: []string{"/nonexistent/probe"}}).Probe(probeCtx(t, time.Second), p); r.OK || !strings.Contains(r.Evidence, "cannot run") {
		t.Errorf("missing binary: %q", r.Evidence)
	}
}

// testsupportWaitGone waits for the process pid to be gone (killed with
// its group).
func testsupportWaitGone(t *testing.T, pid string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("the command's child %s outlived the probe's deadline", pid)
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "strat_00.tick")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	f := &File{Path: filepath.Join(filepath.Dir(path), "%(process_name)s.tick"), MaxAge: 10 * time.Second}
	if r := f.Probe(t.Context(), Process{Name: "strat_00"}); !r.OK {
		t.Errorf("fresh: %q", r.Evidence)
	}
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if r := f.Probe(t.Context(), Process{Name: "strat_00"}); r.OK || !strings.Contains(r.Evidence, "stale") || r.Age < 50*time.Second {
		t.Errorf("stale: %v %q age %s", r.OK, r.Evidence, r.Age)
	}
	if r := f.Probe(t.Context(), Process{Name: "strat_09"}); r.OK || !strings.Contains(r.Evidence, "cannot read") {
		t.Errorf("missing: %q", r.Evidence)
	}
}
