package testsupport

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	tests := []struct {
		name    string
		trueAt  int // call on which cond first holds; 0: never
		timeout time.Duration
		wantOK  bool
	}{
		{name: "at once", trueAt: 1, timeout: time.Second, wantOK: true},
		{name: "after a few looks", trueAt: 4, timeout: 5 * time.Second, wantOK: true},
		{name: "never", timeout: 30 * time.Millisecond, wantOK: false},
		{name: "zero timeout still looks once", trueAt: 1, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			ok, last := poll(tt.timeout, func() (bool, string) {
				calls++
				return calls == tt.trueAt, "call " + string(rune('0'+calls%10))
			})
			if ok != tt.wantOK {
				t.Fatalf("poll = %v (%s after %d calls), want %v", ok, last, calls, tt.wantOK)
			}
			if tt.wantOK && calls != tt.trueAt {
				t.Errorf("cond called %d times, want %d", calls, tt.trueAt)
			}
		})
	}
}

func TestSyncBufferConcurrent(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x"))
			}
		})
	}
	WaitFor(t, 10*time.Second, "400 bytes", func() bool { return len(b.String()) == 400 })
	wg.Wait()
}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Golden(t, path, []byte("same\n"))
}

func TestGetenv(t *testing.T) {
	getenv := Getenv("A", "1", "B", "", "dangling")
	for k, want := range map[string]string{"A": "1", "B": "", "dangling": "", "C": ""} {
		if got := getenv(k); got != want {
			t.Errorf("getenv(%q) = %q, want %q", k, got, want)
		}
	}
}

func TestReadJSONLines(t *testing.T) {
	dir := t.TempDir()
	type rec struct{ N int }
	if got := ReadJSONLines[rec](t, filepath.Join(dir, "missing.jsonl")); got != nil {
		t.Errorf("missing file: %v, want nil", got)
	}
	path := filepath.Join(dir, "r.jsonl")
	if err := os.WriteFile(path, []byte("{\"N\":1}\n{\"N\":2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ReadJSONLines[rec](t, path); len(got) != 2 || got[0].N != 1 || got[1].N != 2 {
		t.Errorf("ReadJSONLines = %+v", got)
	}
}

func TestCleanEnv(t *testing.T) {
	t.Setenv("SUPERGUARD_STATE", filepath.Join(t.TempDir(), "state.db"))
	t.Setenv("SUPERVISOR_SERVER_URL", "unix:///run/supervisor.sock")
	t.Setenv("TESTSUPPORT_KEPT", "yes")
	env := CleanEnv("EXTRA=1")
	if !slices.Contains(env, "TESTSUPPORT_KEPT=yes") || env[len(env)-1] != "EXTRA=1" {
		t.Errorf("CleanEnv lost variables: %q", env)
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "SUPERGUARD_") || strings.HasPrefix(kv, "SUPERVISOR_") {
			t.Errorf("CleanEnv kept %s", kv)
		}
	}
}

func TestRecorder(t *testing.T) {
	var r Recorder[int]
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { r.Add(i) })
	}
	wg.Wait()
	got := r.All()
	slices.Sort(got)
	if len(got) != 50 || got[0] != 0 || got[49] != 49 {
		t.Fatalf("All = %v", got)
	}
	got[0] = -1
	if r.All()[0] == -1 {
		t.Error("All returned the recorder's own slice")
	}
}

func TestProcStatAndStats(t *testing.T) {
	if kb := RSSKB(t, os.Getpid()); kb < 1024 {
		t.Errorf("RSSKB of this test = %.0f kB", kb)
	}
	if d := CPUTime(t, os.Getpid()); d < 0 {
		t.Errorf("CPUTime = %s", d)
	}
	if m := Median([]float64{5, 1, 3, 2}); m != 2.5 {
		t.Errorf("Median = %v", m)
	}
	if p := Percentile([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90); p != 9 {
		t.Errorf("Percentile 90 = %v", p)
	}
}

func TestRun(t *testing.T) {
	code, stdout, stderr := Run(t, exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"))
	if code != 3 || stdout != "out\n" || stderr != "err\n" {
		t.Errorf("Run = %d %q %q", code, stdout, stderr)
	}
	code, out := RunCombined(t, exec.Command("sh", "-c", "echo a; echo b >&2"))
	if code != 0 || out != "a\nb\n" {
		t.Errorf("RunCombined = %d %q", code, out)
	}
}

func TestExitCodeOfAKilledCommand(t *testing.T) {
	cmd := exec.Command("sh", "-c", "kill -9 $$")
	if code := ExitCode(t, cmd.Run(), "sh"); code != -1 {
		t.Errorf("ExitCode = %d, want -1 for a command killed by a signal", code)
	}
}
