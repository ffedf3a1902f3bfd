package halt

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunFlatten(t *testing.T) {
	env := []string{"SUPERGUARD_HALT_REASON=risk_manager went FATAL", "SUPERGUARD_TRACE_ID=abc"}
	tests := []struct {
		name       string
		command    []string
		timeout    time.Duration
		wantExit   int
		wantErr    string // substring; "" means success
		wantOutput string // substring
		timedOut   bool
	}{
		{name: "success with environment", command: []string{"sh", "-c", `echo "flat: $SUPERGUARD_HALT_REASON ($SUPERGUARD_TRACE_ID)"`},
			wantOutput: "flat: risk_manager went FATAL (abc)"},
		{name: "failure exit status and stderr", command: []string{"sh", "-c", "echo broker rejected >&2; exit 3"},
			wantExit: 3, wantErr: "exit status 3", wantOutput: "broker rejected"},
		{name: "hang is killed at the timeout", command: []string{"sh", "-c", "echo started; sleep 30"}, timeout: 200 * time.Millisecond,
			wantExit: -1, wantErr: "timed out after 200ms and was killed", wantOutput: "started", timedOut: true},
		{name: "missing program", command: []string{"/nonexistent/flatten"},
			wantExit: -1, wantErr: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			r := runFlatten(context.Background(), FlattenConfig{Command: tt.command}, timeout, env)
			if r.ExitCode != tt.wantExit {
				t.Errorf("ExitCode = %d, want %d", r.ExitCode, tt.wantExit)
			}
			if tt.wantErr == "" && !r.OK() || tt.wantErr != "" && !strings.Contains(r.Err, tt.wantErr) {
				t.Errorf("Err = %q, want %q", r.Err, tt.wantErr)
			}
			if !strings.Contains(r.Output, tt.wantOutput) {
				t.Errorf("Output = %q, want it to contain %q", r.Output, tt.wantOutput)
			}
			if r.TimedOut != tt.timedOut {
				t.Errorf("TimedOut = %v", r.TimedOut)
			}
		})
	}
}

func TestRunFlattenKillsTheProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The shell's child keeps running unless the whole group is killed.
	script := "sleep 30 & echo $! > " + pidFile + "; wait"
	r := runFlatten(context.Background(), FlattenConfig{Command: []string{"sh", "-c", script}}, 300*time.Millisecond, nil)
	if !r.TimedOut {
		t.Fatalf("result %+v: want a timeout", r)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); syscall.Kill(pid, 0) != syscall.ESRCH && !isZombie(pid); {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the grandchild to be killed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// isZombie reports whether pid has exited but not been reaped (its parent
// shell was killed first, so init reaps it later).
func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	tb := &tailBuffer{max: 8}
	for _, s := range []string{"0123", "4567", "89ab"} {
		if _, err := tb.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got := tb.String(); got != "...456789ab" {
		t.Errorf("String() = %q", got)
	}
	tb = &tailBuffer{max: 3}
	_, _ = tb.Write([]byte("aé")) // 3 bytes, fits
	_, _ = tb.Write([]byte("é"))  // the cut splits the first é
	if got := tb.String(); got != "...é" {
		t.Errorf("String() = %q: the cut must not leave a broken character", got)
	}
}
