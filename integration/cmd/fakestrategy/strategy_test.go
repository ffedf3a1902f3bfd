package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superguard/superguard/internal/testsupport"
)

// running is a strategy started by start; wait returns its exit code.
type running struct {
	stdout, stderr *testsupport.SyncBuffer
	sigs           chan os.Signal
	done           chan int
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.LogStream == "" {
		cfg.LogStream = "stdout"
	}
	if cfg.HealthStatus == 0 {
		cfg.HealthStatus, cfg.HealthBody = 200, "ok"
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &testsupport.SyncBuffer{}, stderr: &testsupport.SyncBuffer{}, sigs: make(chan os.Signal, 4), done: make(chan int, 1)}
	go func() { r.done <- Run(ctx, cfg, r.stdout, r.stderr, r.sigs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("strategy did not stop after its context was cancelled")
		}
	})
	return r
}

func (r *running) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code // keep it for Cleanup
		return code
	case <-time.After(timeout):
		t.Fatalf("strategy still running after %v; stderr:\n%s", timeout, r.stderr.String())
		return -1
	}
}

func (r *running) exited() bool {
	select {
	case code := <-r.done:
		r.done <- code
		return true
	default:
		return false
	}
}

func TestExitAfter(t *testing.T) {
	r := start(t, Config{ExitAfter: 50 * time.Millisecond, ExitCode: 3})
	if code := r.wait(t, 5*time.Second); code != 3 {
		t.Errorf("exit code = %d, want 3", code)
	}
	if !strings.Contains(r.stderr.String(), "exiting code=3") {
		t.Errorf("stderr = %q, want an exiting line", r.stderr.String())
	}
}

func TestHeartbeats(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		check func(t *testing.T, body string, seq int)
	}{
		{name: "default JSON", check: func(t *testing.T, body string, seq int) {
			var hb Heartbeat
			if err := json.Unmarshal([]byte(body), &hb); err != nil {
				t.Fatalf("heartbeat %q: %v", body, err)
			}
			if hb.Type != "heartbeat" || hb.Name != "test" || hb.Seq != seq || hb.PID != os.Getpid() || hb.Time.IsZero() {
				t.Errorf("heartbeat %d = %+v", seq, hb)
			}
		}},
		{name: "custom data", data: "alive ✓", check: func(t *testing.T, body string, _ int) {
			if body != "alive ✓" {
				t.Errorf("heartbeat body = %q, want %q", body, "alive ✓")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, Config{Heartbeat: 5 * time.Millisecond, HeartbeatData: tt.data})
			testsupport.Eventually(t, 5*time.Second, "3 heartbeats", func() (bool, string) {
				out := r.stdout.String()
				return strings.Count(out, CommEnd) >= 3, out
			})
			out := r.stdout.String()
			for i, frame := range strings.Split(strings.TrimSuffix(out, "\n"), "\n")[:3] {
				body, ok := strings.CutPrefix(frame, CommBegin)
				body, ok2 := strings.CutSuffix(body, CommEnd)
				if !ok || !ok2 {
					t.Fatalf("frame %d = %q, want it framed by %s...%s", i, frame, CommBegin, CommEnd)
				}
				tt.check(t, body, i+1)
			}
		})
	}
}

func TestLogLines(t *testing.T) {
	const text = "prix 42 € – 株価 ✓"
	tests := []struct {
		name              string
		cfg               Config
		wantOut, wantErr  bool
		wantInvalidSuffix bool
	}{
		{name: "stdout once", cfg: Config{LogText: text}, wantOut: true},
		{name: "stderr every", cfg: Config{LogText: text, LogEvery: 5 * time.Millisecond, LogStream: "stderr"}, wantErr: true},
		{name: "both invalid utf8", cfg: Config{LogText: text, LogStream: "both", LogInvalidUTF: true}, wantOut: true, wantErr: true, wantInvalidSuffix: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, tt.cfg)
			want := text
			if tt.wantInvalidSuffix {
				want += InvalidUTF8
			}
			want += "\n"
			for _, s := range []struct {
				name string
				buf  *testsupport.SyncBuffer
				want bool
			}{{"stdout", r.stdout, tt.wantOut}, {"stderr", r.stderr, tt.wantErr}} {
				if !s.want {
					continue
				}
				testsupport.Eventually(t, 5*time.Second, "log line on "+s.name, func() (bool, string) {
					return strings.Contains(s.buf.String(), want), s.buf.String()
				})
				if utf8.ValidString(s.buf.String()) == tt.wantInvalidSuffix {
					t.Errorf("%s valid UTF-8 = %v, want %v", s.name, !tt.wantInvalidSuffix, !tt.wantInvalidSuffix)
				}
			}
			if !tt.wantOut && strings.Contains(r.stdout.String(), text) {
				t.Errorf("stdout got the log line: %q", r.stdout.String())
			}
		})
	}
}

func healthAddr(t *testing.T, file string) string {
	t.Helper()
	var addr string
	testsupport.Eventually(t, 5*time.Second, "health address file", func() (bool, string) {
		b, err := os.ReadFile(file)
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != "", addr
	})
	return addr
}

func get(t *testing.T, url string, timeout time.Duration) (int, string, error) {
	t.Helper()
	c := &http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestHealth(t *testing.T) {
	dir := t.TempDir()
	healthFile := filepath.Join(dir, "health")
	r := start(t, Config{
		HealthAddr: "127.0.0.1:0", HealthAddrFile: filepath.Join(dir, "addr"),
		HealthStatus: 200, HealthBody: "ok", HealthFile: healthFile,
	})
	url := "http://" + healthAddr(t, filepath.Join(dir, "addr")) + "/health"

	steps := []struct {
		name       string
		do         func()
		wantStatus int
		wantBody   string
	}{
		{name: "configured", do: func() {}, wantStatus: 200, wantBody: "ok"},
		{name: "health file", do: func() {
			if err := os.WriteFile(healthFile, []byte("503 feed stale\nignored\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantStatus: 503, wantBody: "feed stale"},
		{name: "bad health file", do: func() {
			if err := os.WriteFile(healthFile, []byte("sick\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantStatus: 500, wantBody: `bad health file: first line "sick": want "<status> [body]"`},
		{name: "health file removed", do: func() { os.Remove(healthFile) }, wantStatus: 200, wantBody: "ok"},
		{name: "SIGUSR1 toggles unhealthy", do: func() { r.sigs <- syscall.SIGUSR1 }, wantStatus: 503, wantBody: "unhealthy (SIGUSR1)"},
		{name: "SIGUSR1 toggles back", do: func() { r.sigs <- syscall.SIGUSR1 }, wantStatus: 200, wantBody: "ok"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do()
			// Signals are handled asynchronously: poll until the answer changes.
			testsupport.Eventually(t, 5*time.Second, "health answer", func() (bool, string) {
				status, body, err := get(t, url, 2*time.Second)
				return err == nil && status == st.wantStatus && body == st.wantBody,
					strings.Join([]string{http.StatusText(status), body, errString(err)}, " | ")
			})
		})
	}

	t.Run("SIGUSR2 hangs", func(t *testing.T) {
		r.sigs <- syscall.SIGUSR2
		testsupport.Eventually(t, 5*time.Second, "hang", func() (bool, string) {
			return strings.Contains(r.stderr.String(), "hanging cause=SIGUSR2"), r.stderr.String()
		})
		if status, body, err := get(t, url, 200*time.Millisecond); err == nil {
			t.Fatalf("hung /health answered %d %q", status, body)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestHangStopsHeartbeats(t *testing.T) {
	r := start(t, Config{Heartbeat: 5 * time.Millisecond, HangAfter: 100 * time.Millisecond})
	testsupport.Eventually(t, 5*time.Second, "hang", func() (bool, string) {
		return strings.Contains(r.stderr.String(), "hanging cause=hang-after"), r.stderr.String()
	})
	// Heartbeats and the hang share the strategy's one loop goroutine: once
	// the hang is logged, the heartbeat count is final.
	before := strings.Count(r.stdout.String(), CommEnd)
	if before == 0 {
		t.Fatal("no heartbeat before the hang")
	}
	// A heartbeat fell due after the hang and was withheld: the positive
	// signal that the loop went on ticking, rather than a fixed sleep.
	testsupport.Eventually(t, 5*time.Second, "a withheld heartbeat", func() (bool, string) {
		return strings.Contains(r.stderr.String(), "heartbeat withheld cause=hung"), r.stderr.String()
	})
	if after := strings.Count(r.stdout.String(), CommEnd); after != before {
		t.Errorf("heartbeats went on after the hang: %d, then %d", before, after)
	}
}

func TestSIGTERM(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		wantExit bool
	}{
		{name: "exits", cfg: Config{}, wantExit: true},
		{name: "exits after stop delay", cfg: Config{StopDelay: 20 * time.Millisecond}, wantExit: true},
		{name: "ignored", cfg: Config{IgnoreSIGTERM: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, tt.cfg)
			r.sigs <- syscall.SIGTERM
			if tt.wantExit {
				if code := r.wait(t, 5*time.Second); code != 0 {
					t.Errorf("exit code = %d, want 0", code)
				}
				return
			}
			testsupport.Eventually(t, 5*time.Second, "ignore line", func() (bool, string) {
				return strings.Contains(r.stderr.String(), "ignoring signal signal=terminated"), r.stderr.String()
			})
			if r.exited() {
				t.Error("exited on SIGTERM with IgnoreSIGTERM")
			}
		})
	}
}

func TestGrow(t *testing.T) {
	cfg := Config{GrowRate: 10 << 20, GrowLimit: 3 << 20}
	s := &strategy{cfg: cfg, stderr: io.Discard}
	for range 10 { // 10 ticks of 1 MiB each, capped at 3 MiB
		s.grow()
	}
	var total int64
	for _, b := range s.memory {
		total += int64(len(b))
	}
	if s.grown != 3<<20 || total != 3<<20 {
		t.Errorf("grown = %d (held %d), want %d", s.grown, total, 3<<20)
	}
}

func TestChildArgs(t *testing.T) {
	cfg := Config{Name: "alpha", Children: 2, ChildGrowRate: 4 << 20, ChildGrowLimit: 64e6,
		HealthAddr: "127.0.0.1:0", Heartbeat: time.Second, LogText: "x", Spin: true, OpenFDs: 9}
	name, args := cfg.childArgs(1)
	want := []string{"-name", "alpha-child-1", "-grow-rate", "4194304", "-grow-limit", "64000000"}
	if name != "alpha-child-1" || !slices.Equal(args, want) {
		t.Errorf("childArgs(1) = %q, %q; want %q, %q", name, args, "alpha-child-1", want)
	}
	// What the child makes of it: only its name and growth, none of the
	// parent's health server, heartbeats, logs or load.
	got, err := parseConfig(args, testsupport.Getenv(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if wantCfg := (Config{Name: "alpha-child-1", HealthStatus: 200, HealthBody: "ok", LogStream: "stdout",
		GrowRate: 4 << 20, GrowLimit: 64e6}); got != wantCfg {
		t.Errorf("child config =\n%+v\nwant\n%+v", got, wantCfg)
	}
}

func TestChildEnv(t *testing.T) {
	env := []string{"PATH=/bin", "FAKESTRATEGY_CHILDREN=2", "FAKESTRATEGY_HEALTH_ADDR=127.0.0.1:0",
		"SUPERVISOR_PROCESS_NAME=alpha", "FAKESTRATEGY_HEARTBEAT=1s", "MY_FAKESTRATEGY_X=kept"}
	want := []string{"PATH=/bin", "SUPERVISOR_PROCESS_NAME=alpha", "MY_FAKESTRATEGY_X=kept"}
	if got := childEnv(env); !slices.Equal(got, want) {
		t.Errorf("childEnv = %q, want %q", got, want)
	}
}

func TestSpinStops(t *testing.T) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { spin(stop); close(done) }()
	testsupport.WaitFor(t, 5*time.Second, "a spin batch", func() bool { return spinSink.Load() != 0 })
	close(stop)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("spin still running after stop was closed")
	}
}

func TestSpinFor(t *testing.T) {
	r := start(t, Config{Spin: true, SpinFor: 20 * time.Millisecond})
	testsupport.Eventually(t, 5*time.Second, "spin stopped", func() (bool, string) {
		return strings.Contains(r.stderr.String(), "spin stopped after=20ms"), r.stderr.String()
	})
	if !strings.Contains(r.stderr.String(), "spinning for=20ms") {
		t.Errorf("stderr = %q, want a spinning line", r.stderr.String())
	}
}

func TestOpenFiles(t *testing.T) {
	before := countFDs(t, os.Getpid())
	files, err := openFiles(5)
	if err != nil || len(files) != 5 {
		t.Fatalf("openFiles(5) = %d files, %v", len(files), err)
	}
	if n := countFDs(t, os.Getpid()); n < before+5 {
		t.Errorf("fds = %d after opening 5 more than %d", n, before)
	}
	closeFiles(files)
}

func TestOpenFDsInRun(t *testing.T) {
	r := start(t, Config{OpenFDs: 3})
	testsupport.Eventually(t, 5*time.Second, "opened fds", func() (bool, string) {
		return strings.Contains(r.stderr.String(), "opened fds count=3\n"), r.stderr.String()
	})
}

// countFDs is how many descriptors pid has open.
func countFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestSIGTTINFreezesFeed: after SIGTTIN the data timestamp in /health
// stops at the moment of the signal, while /health still answers.
func TestSIGTTINFreezesFeed(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Config{HealthAddr: "127.0.0.1:0", HealthAddrFile: filepath.Join(dir, "addr"), HealthStatus: 200, HealthBody: "%NOW_MS%"})
	url := "http://" + healthAddr(t, filepath.Join(dir, "addr")) + "/health"
	read := func() int64 {
		t.Helper()
		status, body, err := get(t, url, 2*time.Second)
		if err != nil || status != 200 {
			t.Fatalf("/health: %d %q %v", status, body, err)
		}
		v, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	r.sigs <- syscall.SIGTTIN
	testsupport.Eventually(t, 5*time.Second, "the freeze", func() (bool, string) {
		return strings.Contains(r.stderr.String(), "feed frozen cause=SIGTTIN"), r.stderr.String()
	})
	frozen := read()
	// Wait for the clock to pass the frozen value, then read again: the
	// same value.
	testsupport.Eventually(t, 5*time.Second, "the clock to move on", func() (bool, string) {
		return time.Now().UnixMilli() > frozen+5, ""
	})
	if again := read(); again != frozen {
		t.Errorf("timestamp moved after SIGTTIN: %d then %d", frozen, again)
	}
}

// TestGrowOnSignal: with GrowOnSignal memory grows only after SIGTTOU;
// without it, from the start.
func TestGrowOnSignal(t *testing.T) {
	t.Run("from the start", func(t *testing.T) {
		r := start(t, Config{GrowRate: 10 << 20, GrowLimit: 1 << 20})
		testsupport.Eventually(t, 5*time.Second, "growth", func() (bool, string) {
			return strings.Contains(r.stderr.String(), "grow limit reached"), r.stderr.String()
		})
	})
	t.Run("on SIGTTOU", func(t *testing.T) {
		r := start(t, Config{GrowRate: 10 << 20, GrowLimit: 1 << 20, GrowOnSignal: true, Heartbeat: 10 * time.Millisecond})
		// 40 heartbeats (400 ms, four grow ticks) from the same loop: no
		// growth without the signal.
		testsupport.Eventually(t, 10*time.Second, "40 heartbeats", func() (bool, string) {
			return strings.Count(r.stdout.String(), CommEnd) >= 40, ""
		})
		if strings.Contains(r.stderr.String(), "grow limit reached") {
			t.Fatal("grew before SIGTTOU")
		}
		r.sigs <- syscall.SIGTTOU
		testsupport.Eventually(t, 5*time.Second, "growth after SIGTTOU", func() (bool, string) {
			return strings.Contains(r.stderr.String(), "growing rate=10485760 cause=SIGTTOU") &&
				strings.Contains(r.stderr.String(), "grow limit reached grown=1048576"), r.stderr.String()
		})
	})
}
