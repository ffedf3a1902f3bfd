package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Heartbeat framing of supervisord's PROCESS_COMMUNICATION capture mode.
const (
	CommBegin = "<!--XSUPERVISOR:BEGIN-->"
	CommEnd   = "<!--XSUPERVISOR:END-->"
)

// growTick is how often memory growth happens (GrowRate is spread over it).
const growTick = 100 * time.Millisecond

// pageSize is the stride used to touch newly allocated memory so it becomes
// resident.
const pageSize = 4096

// strategy is one running fake strategy.
type strategy struct {
	cfg    Config
	stdout io.Writer
	stderr io.Writer
	outMu  sync.Mutex // one frame or line at a time on stdout/stderr

	hung      atomic.Bool
	hangOnce  sync.Once
	hangCh    chan struct{} // closed when hung
	unhealthy atomic.Bool   // toggled by SIGUSR1
	frozenAt  atomic.Int64  // UnixNano at which SIGTTIN froze %NOW% (0: not frozen)
	growing   bool          // memory grows on growTick (GrowOnSignal: once SIGTTOU came)

	seq      int
	withheld bool // a heartbeat was due while hung (logged once)
	started  time.Time
	memory   [][]byte
	grown    int64
}

// Heartbeat is the default PROCESS_COMMUNICATION body, one JSON object.
type Heartbeat struct {
	Type string    `json:"type"` // always "heartbeat"
	Name string    `json:"name"`
	Seq  int       `json:"seq"`
	PID  int       `json:"pid"`
	Time time.Time `json:"time"`
}

// Run runs the fake strategy until it exits by its own schedule, by a signal
// from sigs, or when ctx ends, and returns the process exit code.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	s := &strategy{cfg: cfg, stdout: stdout, stderr: stderr, hangCh: make(chan struct{}), started: time.Now()}
	s.diag("started", "pid", strconv.Itoa(os.Getpid()))

	if cfg.HealthAddr != "" {
		srv, err := s.serveHealth()
		if err != nil {
			s.diag("health server failed", "error", err.Error())
			return 1
		}
		defer srv.Close()
	}
	stopLoad, err := s.startLoad()
	if err != nil {
		s.diag("load failed", "error", err.Error())
		return 1
	}
	defer stopLoad()

	var notifyC, readyC <-chan time.Time
	if cfg.Notify > 0 {
		notifyC = tickerC(cfg.Notify)
		readyC = time.After(cfg.ReadyAfter)
	}
	exitC := timerC(cfg.ExitAfter)
	hangC := timerC(cfg.HangAfter)
	hbC := tickerC(cfg.Heartbeat)
	logC := tickerC(cfg.LogEvery)
	var growC <-chan time.Time
	startGrowing := func() {
		if !s.growing {
			s.growing = true
			growC = tickerC(growTick)
		}
	}
	if cfg.GrowRate > 0 && !cfg.GrowOnSignal {
		startGrowing()
	}
	if cfg.LogText != "" && cfg.LogEvery == 0 {
		s.logLine()
	}
	for {
		select {
		case <-ctx.Done():
			return 0
		case <-exitC:
			s.diag("exiting", "code", strconv.Itoa(cfg.ExitCode))
			return cfg.ExitCode
		case <-hangC:
			s.hang("hang-after")
		case <-hbC:
			switch {
			case !s.hung.Load():
				s.heartbeat()
			case !s.withheld:
				// Logged once, so that a test sees a heartbeat fall due
				// while hung instead of waiting for one not to come.
				s.withheld = true
				s.diag("heartbeat withheld", "cause", "hung")
			}
		case <-logC:
			if !s.hung.Load() {
				s.logLine()
			}
		case <-readyC:
			s.sdNotify("READY=1\nSTATUS=trading")
		case <-notifyC:
			if !s.hung.Load() {
				s.sdNotify("WATCHDOG=1")
			}
		case <-growC:
			if !s.hung.Load() {
				s.grow()
			}
		case sig := <-sigs:
			if sig == syscall.SIGTTOU && cfg.GrowOnSignal {
				s.diag("growing", "rate", strconv.FormatInt(cfg.GrowRate, 10), "cause", "SIGTTOU")
				startGrowing()
				continue
			}
			if code, exit := s.signal(ctx, sig); exit {
				return code
			}
		}
	}
}

// signal handles one signal; exit reports whether the process should exit.
func (s *strategy) signal(ctx context.Context, sig os.Signal) (code int, exit bool) {
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT:
		if s.cfg.IgnoreSIGTERM {
			s.diag("ignoring signal", "signal", sig.String())
			return 0, false
		}
		s.diag("stopping", "signal", sig.String(), "delay", s.cfg.StopDelay.String())
		if s.cfg.StopDelay > 0 {
			select {
			case <-time.After(s.cfg.StopDelay):
			case <-ctx.Done():
			}
		}
		return 0, true
	case syscall.SIGUSR1:
		now := !s.unhealthy.Load()
		s.unhealthy.Store(now)
		s.diag("health toggled", "unhealthy", strconv.FormatBool(now))
	case syscall.SIGUSR2:
		s.hang("SIGUSR2")
	case syscall.SIGTTIN:
		if s.frozenAt.CompareAndSwap(0, time.Now().UnixNano()) {
			s.diag("feed frozen", "cause", "SIGTTIN")
		}
	default:
		s.diag("signal ignored", "signal", sig.String())
	}
	return 0, false
}

func (s *strategy) hang(why string) {
	s.hangOnce.Do(func() {
		s.diag("hanging", "cause", why)
		s.hung.Store(true)
		close(s.hangCh)
	})
}

// serveHealth starts the /health server and writes the bound address to
// HealthAddrFile.
func (s *strategy) serveHealth() (*http.Server, error) {
	ln, err := net.Listen("tcp", s.cfg.HealthAddr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", s.cfg.HealthAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", s.handleHealth)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	addr := ln.Addr().String()
	if s.cfg.HealthAddrFile != "" {
		if err := writeFileAtomic(s.cfg.HealthAddrFile, addr+"\n"); err != nil {
			srv.Close()
			return nil, fmt.Errorf("health address file: %w", err)
		}
	}
	s.diag("serving /health", "addr", addr)
	return srv, nil
}

func (s *strategy) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.hung.Load() {
		<-r.Context().Done() // never answer; the client gives up or the server closes
		return
	}
	status, body := s.healthResponse()
	body = s.expandNow(body)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// healthResponse decides /health's answer: SIGUSR1's toggle wins, then the
// health file when it exists, then the flags.
func (s *strategy) healthResponse() (int, string) {
	if s.unhealthy.Load() {
		return http.StatusServiceUnavailable, "unhealthy (SIGUSR1)"
	}
	if s.cfg.HealthFile != "" {
		data, err := os.ReadFile(s.cfg.HealthFile)
		switch {
		case err == nil:
			status, body, err := parseHealthLine(string(data))
			if err != nil {
				return http.StatusInternalServerError, "bad health file: " + err.Error()
			}
			return status, body
		case !errors.Is(err, fs.ErrNotExist):
			return http.StatusInternalServerError, "health file: " + err.Error()
		}
	}
	return s.cfg.HealthStatus, s.cfg.HealthBody
}

// parseHealthLine parses the first line of a health file: "<status> [body]".
func parseHealthLine(content string) (int, string, error) {
	line, _, _ := strings.Cut(content, "\n")
	line = strings.TrimSpace(line)
	code, body, _ := strings.Cut(line, " ")
	status, err := strconv.Atoi(code)
	if err != nil || status < 100 || status > 999 {
		return 0, "", fmt.Errorf("first line %q: want \"<status> [body]\"", line)
	}
	return status, strings.TrimSpace(body), nil
}

func (s *strategy) heartbeat() {
	s.seq++
	data := s.cfg.HeartbeatData
	if data == "" {
		b, _ := json.Marshal(Heartbeat{Type: "heartbeat", Name: s.cfg.Name, Seq: s.seq, PID: os.Getpid(), Time: time.Now().UTC()})
		data = string(b)
	}
	s.write(s.stdout, CommBegin+data+CommEnd+"\n")
}

func (s *strategy) logLine() {
	line := s.cfg.LogText
	if s.cfg.LogInvalidUTF {
		line += InvalidUTF8
	}
	line += "\n"
	if s.cfg.LogStream != "stderr" {
		s.write(s.stdout, line)
	}
	if s.cfg.LogStream != "stdout" {
		s.write(s.stderr, line)
	}
}

// grow allocates one tick's share of GrowRate and touches every page so the
// memory is resident, up to GrowLimit.
func (s *strategy) grow() {
	n := s.cfg.GrowRate * int64(growTick) / int64(time.Second)
	if s.cfg.GrowLimit > 0 && s.grown+n > s.cfg.GrowLimit {
		n = s.cfg.GrowLimit - s.grown
	}
	if n <= 0 {
		return
	}
	b := make([]byte, n)
	for i := 0; i < len(b); i += pageSize {
		b[i] = 1
	}
	s.memory = append(s.memory, b)
	s.grown += n
	if s.grown == s.cfg.GrowLimit {
		s.diag("grow limit reached", "grown", strconv.FormatInt(s.grown, 10))
	}
}

// diag writes one diagnostic line to stderr: "fakestrategy[name]: msg k=v ...".
func (s *strategy) diag(msg string, kv ...string) {
	var b strings.Builder
	fmt.Fprintf(&b, "fakestrategy[%s]: %s", s.cfg.Name, msg)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=%s", kv[i], kv[i+1])
	}
	b.WriteByte('\n')
	s.write(s.stderr, b.String())
}

func (s *strategy) write(w io.Writer, text string) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	_, _ = io.WriteString(w, text) // one write(2) per frame or line on a file

}

func timerC(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return time.After(d)
}

func tickerC(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return time.NewTicker(d).C
}

// writeFileAtomic writes content to path through a temporary file and a
// rename, so a reader never sees a partial file.
func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// expandNow fills %NOW% (RFC 3339) and %NOW_MS% (epoch milliseconds) in a
// /health body with the data's time: now, or the moment the feed froze.
func (s *strategy) expandNow(body string) string {
	if !strings.Contains(body, "%NOW") {
		return body
	}
	t := time.Now()
	if f := s.cfg.FreezeAfter; f > 0 && t.Sub(s.started) > f {
		t = s.started.Add(f)
	}
	if at := s.frozenAt.Load(); at != 0 && t.UnixNano() > at {
		t = time.Unix(0, at)
	}
	body = strings.ReplaceAll(body, "%NOW_MS%", strconv.FormatInt(t.UnixMilli(), 10))
	return strings.ReplaceAll(body, "%NOW%", t.UTC().Format(time.RFC3339Nano))
}

// sdNotify sends one notification to $NOTIFY_SOCKET the way sd_notify(3)
// does: a datagram per call, so a socket that appears later still gets
// the next one. A failure is only logged, as sd_notify callers ignore it.
func (s *strategy) sdNotify(msg string) {
	path := os.Getenv("NOTIFY_SOCKET")
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err == nil {
		_, err = c.Write([]byte(msg))
		_ = c.Close()
	}
	if err != nil {
		s.diag("notify failed", "error", err.Error())
	}
}
