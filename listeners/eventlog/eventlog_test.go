package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/logging"
	"github.com/superguard/superguard/pkg/supervisor"
	"github.com/superguard/superguard/pkg/supervisor/supervisortest"
)

// timeField matches the timestamp of a log line, the one field that changes
// from run to run.
var timeField = regexp.MustCompile(`"time":"[^"]*",`)

// TestRunTranscript runs the tap on a transcript of every event family
// (testdata/transcript.stdin, made by pkg/eventlistener's make_stdin.py) and
// compares the protocol answers and the log lines with golden files.
func TestRunTranscript(t *testing.T) {
	t.Setenv(logging.EnvLevel, "")
	in, err := os.ReadFile("testdata/transcript.stdin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{name: "all", args: nil},
		{name: "filtered", args: []string{"-events", "PROCESS_STATE,PROCESS_GROUP", "-process", "strategies:*"}},
		{name: "quiet", args: []string{"-log-level", "warn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SUPERVISOR_SERVER_URL", "")
			code, stdout, stderr := run(tt.args, string(in))
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			testsupport.Golden(t, "testdata/transcript.stdout", []byte(stdout))
			testsupport.Golden(t, "testdata/transcript."+tt.name+".log", timeField.ReplaceAll([]byte(stderr), nil))
			for line := range strings.Lines(stderr) {
				if !strings.HasPrefix(line, `{"level":`) || !strings.HasSuffix(line, "}\n") {
					t.Errorf("not one JSON line: %q", line)
				}
			}
		})
	}
}

// env builds one real-supervisord envelope.
func env(serial, poolSerial int64, name, payload string) string {
	return testsupport.Envelope("eventlog", serial, poolSerial, name, payload)
}

// A poolserial gap makes eventlog log every (filtered) process's state from
// a real supervisord.
func TestRunLogsReconciliation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real supervisord")
	}
	srv := supervisortest.Start(t, `
[program:sleeper]
command=sleep 1000

[program:other]
command=sleep 1000
`)
	info := srv.WaitProcessState(t, "sleeper:sleeper", supervisor.ProcessRunning)
	t.Setenv("SUPERVISOR_SERVER_URL", srv.URL)
	stdin := env(1, 1, "TICK_5", "when:1700000005") + env(9, 4, "TICK_5", "when:1700000010")
	code, _, stderr := run([]string{"-process", "sleeper", "-log-level", "info"}, stdin)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	want := `"reason":"gap","pool":"eventlog","missed":2,"count":1,"processes":[{"name":"sleeper:sleeper","state":"RUNNING","pid":` +
		strconv.Itoa(info.PID) + `,"description":"pid ` + strconv.Itoa(info.PID)
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, `"message":"reconciliation"`) {
		t.Fatalf("no reconciliation line like %s in:\n%s", want, stderr)
	}
}

// shippedEnv is how the Makefile's build target builds the listeners:
// without cgo. Every dependency is pure Go, and package net otherwise links
// libc through cgo, which makes the binary dynamically linked: about 3.5 ms
// more from exec to READY and 1.8 MB more RSS (BenchmarkStartup).
var shippedEnv = []string{"CGO_ENABLED=0"}

// buildEventlog builds this package as `make build` does, once per test
// binary run.
func buildEventlog(tb testing.TB) string {
	tb.Helper()
	return buildEventlogWith(tb, shippedEnv...)
}

// built caches buildEventlogWith's binaries by environment.
var built = map[string]string{}

// buildEventlogWith builds this package with extra environment variables
// (e.g. CGO_ENABLED=0) into a temporary directory, once per test binary run
// and environment.
func buildEventlogWith(tb testing.TB, env ...string) string {
	tb.Helper()
	bin, err := buildCached(tb, strings.Join(env, " "), "", ".", env)
	if err != nil {
		tb.Fatalf("go build: %v", err)
	}
	return bin
}

// buildCached builds package pkg of the module in src ("": this one) with
// extra environment variables into a temporary directory, once per test
// binary run and key. It skips tb when there is no go command.
func buildCached(tb testing.TB, key, src, pkg string, env []string) (string, error) {
	tb.Helper()
	if bin, ok := built[key]; ok {
		return bin, nil
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("no go command to build eventlog with: %v", err)
	}
	dir, err := os.MkdirTemp("", "eventlog-build")
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(dir, "eventlog")
	cmd := exec.Command(gobin, "build", "-o", bin, pkg)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, out)
	}
	built[key] = bin
	return bin, nil
}

// The package comment's [eventlistener:eventlog] block, with test paths,
// runs under a real supervisord: events are logged, and a supervisord stop
// ends eventlog cleanly (SIGTERM, exit status 0).
func TestEventlogUnderSupervisord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real supervisord")
	}
	bin := buildEventlog(t)
	srv := supervisortest.Start(t, `
[eventlistener:eventlog]
command=`+bin+` -events PROCESS_STATE,PROCESS_GROUP,SUPERVISOR_STATE_CHANGE,REMOTE_COMMUNICATION,TICK_60 -state-file %(here)s/eventlog.state
events=PROCESS_STATE,PROCESS_GROUP,SUPERVISOR_STATE_CHANGE,REMOTE_COMMUNICATION,TICK_60
buffer_size=1024
priority=1000
autorestart=true
stdout_logfile=NONE
stderr_logfile=%(here)s/eventlog.log
stderr_logfile_maxbytes=50MB
stderr_logfile_backups=5

[program:sleeper]
command=sleep 1000
`)
	logPath := filepath.Join(srv.Dir, "eventlog.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("eventlog log:\n%s", b)
		}
	})
	c := srv.Client(t)
	srv.WaitProcessState(t, "eventlog:eventlog", supervisor.ProcessRunning)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.SendRemoteCommEvent(ctx, "deploy", "v1 \u2713"); err != nil {
		t.Fatal(err)
	}
	waitLog := func(what, substr string) {
		t.Helper()
		testsupport.WaitFor(t, 20*time.Second, "eventlog to log "+what+" ("+substr+")", func() bool {
			b, _ := os.ReadFile(logPath)
			return strings.Contains(string(b), substr)
		})
	}
	waitLog("the sleeper's RUNNING", `"eventname":"PROCESS_STATE_RUNNING","serial":`)
	waitLog("sleeper's state", `"state":{"process":"sleeper","group":"sleeper","from_state":"STARTING","to_state":"RUNNING","pid":`)
	waitLog("the remote event", "\"remote\":{\"type\":\"deploy\",\"data\":\"v1 \u2713\"}")
	if _, err := os.Stat(filepath.Join(srv.Dir, "eventlog.state")); err != nil {
		t.Errorf("state file: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if log := srv.Log(); !strings.Contains(log, "stopped: eventlog (exit status 0)") {
		t.Errorf("eventlog did not exit 0 on SIGTERM:\n%s", log)
	}
}
