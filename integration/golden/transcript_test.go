package golden_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/state"
)

// event is one envelope of a transcript; its header is made by envelopes.
type event struct{ name, payload string }

// envelopes renders events as real supervisord 4.2.5 sends them to pool:
// serials from 1, len in characters.
func envelopes(pool string, events []event) []byte {
	var b strings.Builder
	for i, ev := range events {
		h := eventlistener.Header{Ver: "3.0", Server: "supervisor", Serial: int64(i + 1), Pool: pool,
			PoolSerial: int64(i + 1), EventName: ev.name, Len: len([]rune(ev.payload))}
		b.WriteString(h.String() + "\n" + ev.payload)
	}
	return []byte(b.String())
}

// run is one run of a listener binary.
type run struct {
	code           int
	stdout, stderr string
}

// runListener runs the binary of pkg with args on stdin, with an
// environment that holds nothing of the test process's SUPERVISOR_* or
// SUPERGUARD_* variables but env.
func runListener(t *testing.T, pkg string, stdin []byte, env []string, args ...string) run {
	t.Helper()
	cmd := exec.Command(harness.Bin(t, pkg), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s still running after 60s on EOF\nstderr:\n%s", pkg, stderr.String())
	}
	r := run{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

// logWant is a log line a transcript must produce: its message, and a
// substring of the line ("" for any).
type logWant struct{ message, contains string }

// checkLog checks that every stderr line is one JSON object and that each
// of want matches one of them.
func checkLog(t *testing.T, stderr string, want []logWant) {
	t.Helper()
	byMessage := map[string][]string{}
	for line := range strings.Lines(stderr) {
		var rec struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("stderr line is not one JSON object: %q (%v)", line, err)
			continue
		}
		byMessage[rec.Message] = append(byMessage[rec.Message], line)
	}
	for _, w := range want {
		if !slices.ContainsFunc(byMessage[w.message], func(line string) bool { return strings.Contains(line, w.contains) }) {
			t.Errorf("no log line with message %q containing %q in stderr:\n%s", w.message, w.contains, stderr)
		}
	}
}

// readLatch reads the halt latch from the state store at path.
func readLatch(t *testing.T, path string) state.Halt {
	t.Helper()
	st, err := state.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := st.Halt(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// writeFile writes text to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// compareTranscript checks stdin against testdata/<name>.stdin (so the input
// is on disk for a reader, and changes to it show in review) and stdout
// against testdata/<name>.stdout.
func compareTranscript(t *testing.T, name string, stdin []byte, stdout string) {
	t.Helper()
	base := filepath.Join("testdata", name)
	testsupport.Golden(t, base+".stdin", stdin)
	testsupport.Golden(t, base+".stdout", []byte(stdout))
}
