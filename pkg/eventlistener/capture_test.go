package eventlistener_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/supervisor"
	"github.com/superguard/superguard/pkg/supervisor/supervisortest"
)

var capture = flag.Bool("capture", false, "re-capture real supervisord's protocol bytes into testdata/captured")

// capturedName is the base name of the committed capture.
const capturedName = "testdata/captured/supervisor-4.2.5"

// Scripts the capture's programs run. Non-ASCII text is written with octal
// escapes so that the conf and scripts are plain ASCII.
var captureScripts = map[string]string{
	// "naïve café — ✓ 日本語 😀" on stdout, "stderr: ✓" on stderr
	"utf8.sh": `printf 'na\303\257ve caf\303\251 \342\200\224 \342\234\223 \346\227\245\346\234\254\350\252\236 \360\237\230\200\n'
printf 'stderr: \342\234\223\n' >&2
exec sleep 1000
`,
	// 0xff 0xfe and a broken two-byte sequence: not UTF-8
	"badutf8.sh": `printf '\377\376 ok \303\050\n'
exec sleep 1000
`,
	// a process communication block holding multi-byte text and a colon
	"comm.sh": `printf '<!--XSUPERVISOR:BEGIN-->comm: \342\234\223 \360\237\230\200\nsecond line<!--XSUPERVISOR:END-->\n'
exec sleep 1000
`,
	"exit3.sh": `sleep 0.3
exit 3
`,
}

// TestCaptureSupervisord runs a real supervisord with programs that produce
// every event family, multi-byte UTF-8 and output that is not UTF-8, and a
// recorder listener (runRecorder) that keeps the raw bytes. With -capture it
// rewrites testdata/captured/; TestCapturedLen and the golden transcripts
// check the committed files.
func TestCaptureSupervisord(t *testing.T) {
	if !*capture {
		t.Skip("re-capture with: go test ./pkg/eventlistener -run TestCaptureSupervisord -capture")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "frames.jsonl")
	for name, body := range captureScripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := supervisortest.Start(t, fmt.Sprintf(`
[eventlistener:recorder]
command=%s
environment=%s="recorder",%s="%s"
events=PROCESS_STATE,PROCESS_LOG,PROCESS_COMMUNICATION,REMOTE_COMMUNICATION,SUPERVISOR_STATE_CHANGE,PROCESS_GROUP,TICK_5
buffer_size=1024
stdout_logfile=NONE
stderr_logfile=%s/recorder.err

[program:utf8]
command=/bin/sh %s/utf8.sh
stdout_events_enabled=true
stderr_events_enabled=true

[program:badutf8]
command=/bin/sh %s/badutf8.sh
stdout_events_enabled=true

[program:comm]
command=/bin/sh %s/comm.sh
stdout_capture_maxbytes=1MB

[program:exit3]
command=/bin/sh %s/exit3.sh
startsecs=0
autorestart=false

[program:flaky]
command=/bin/false
startsecs=1
startretries=1

[program:member]
command=sleep 1000

[group:grp]
programs=member
`, exe, envRole, envOut, out, dir, dir, dir, dir, dir))
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	srv.WaitProcessState(t, "exit3:exit3", supervisor.ProcessExited)
	srv.WaitProcessState(t, "flaky:flaky", supervisor.ProcessFatal)
	if err := c.SendRemoteCommEvent(ctx, "deploy:v1", "line1 \u2713\nline2"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopProcessGroup(ctx, "grp", true); err != nil {
		t.Fatal(err)
	}
	res, err := c.Multicall(ctx, []supervisor.Call{{Method: "supervisor.removeProcessGroup", Params: []any{"grp"}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("removeProcessGroup: %v %v", err, res)
	}

	want := []string{"SUPERVISOR_STATE_CHANGE_RUNNING", "PROCESS_GROUP_ADDED", "PROCESS_GROUP_REMOVED",
		"PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING", "PROCESS_STATE_BACKOFF", "PROCESS_STATE_FATAL",
		"PROCESS_STATE_EXITED", "PROCESS_STATE_STOPPING", "PROCESS_STATE_STOPPED",
		"PROCESS_LOG_STDOUT", "PROCESS_LOG_STDERR", "PROCESS_COMMUNICATION_STDOUT",
		"REMOTE_COMMUNICATION", "TICK_5"}
	testsupport.Eventually(t, 40*time.Second, "every event family captured", func() (bool, string) {
		missing := missingEvents(t, out, want)
		return len(missing) == 0, fmt.Sprintf("missing %v", missing)
	})
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	version, err := exec.Command("/usr/bin/supervisord", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.TrimSpace(string(version)); !strings.HasSuffix(capturedName, v) {
		t.Fatalf("supervisord is %s: rename capturedName (%s)", v, capturedName)
	}
	for _, f := range [][2]string{{out, capturedName + ".jsonl"}, {out + ".stdin", capturedName + ".stdin"}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(f[1]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readRecordedFrames(t *testing.T, path string) []recordedFrame {
	t.Helper()
	return testsupport.ReadJSONLines[recordedFrame](t, path)
}

func missingEvents(t *testing.T, path string, want []string) []string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return want
	}
	seen := map[string]bool{}
	for _, fr := range readRecordedFrames(t, path) {
		if h, err := eventlistener.ParseHeader(fr.Header); err == nil {
			seen[h.EventName] = true
		}
	}
	var missing []string
	for _, w := range want {
		if !seen[w] {
			missing = append(missing, w)
		}
	}
	return missing
}

// TestCapturedLen checks, on what real supervisord 4.2.5 sent, the facts the
// reader is built on: len counts characters, not bytes; every payload is
// valid UTF-8; output that is not UTF-8 arrives as `Undecodable: b'...'`.
func TestCapturedLen(t *testing.T) {
	frames := readRecordedFrames(t, capturedName+".jsonl")
	if len(frames) == 0 {
		t.Fatalf("no frames in %s.jsonl", capturedName)
	}
	raw, err := os.ReadFile(capturedName + ".stdin")
	if err != nil {
		t.Fatal(err)
	}
	var concat bytes.Buffer
	multiByte, undecodable := 0, 0
	for _, fr := range frames {
		t.Run(fr.Header, func(t *testing.T) {
			h, err := eventlistener.ParseHeader(fr.Header)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if !fr.Valid || !utf8.ValidString(fr.Payload) {
				t.Errorf("payload is not valid UTF-8: %q", fr.Payload)
			}
			if h.Len != fr.Chars {
				t.Errorf("len:%d but %d characters (%d bytes) arrived", h.Len, fr.Chars, fr.Bytes)
			}
		})
		if fr.Chars != fr.Bytes {
			multiByte++
		}
		if strings.Contains(fr.Payload, "Undecodable: b'") {
			undecodable++
		}
		concat.WriteString(fr.Header + "\n" + fr.Payload)
	}
	if multiByte == 0 || undecodable == 0 {
		t.Errorf("capture has %d multi-byte and %d undecodable payloads: want both", multiByte, undecodable)
	}
	if !bytes.Equal(concat.Bytes(), raw) {
		t.Errorf("%s.stdin is not the concatenation of the recorded frames", capturedName)
	}
}
