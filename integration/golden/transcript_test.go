package golden_test

import (
	"bytes"
	"encoding/json"
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

// Events the transcripts share: trading:mm is a target, not critical.
var (
	firstTick = event{"TICK_60", "when:1700000060"}
	lastTick  = event{"TICK_60", "when:1700000120"}
	mmExited  = event{"PROCESS_STATE_EXITED", "processname:mm groupname:trading from_state:RUNNING expected:0 pid:4242"}
	mmFatal   = event{"PROCESS_STATE_FATAL", "processname:mm groupname:trading from_state:BACKOFF"}
	// deploy is a REMOTE_COMMUNICATION no listener acts on, with a
	// non-ASCII payload: len counts characters, not bytes.
	deploy = event{"REMOTE_COMMUNICATION", "type:deploy\nv1 \u2713 done"}
)

// configHead is the start of every transcript's superguard.yaml: {{.Dir}}
// is the run's directory, {{.URL}} the supervisord to reach. A transcript
// appends its own section under listeners.
const configHead = `host: h1
state_path: {{.Dir}}/state.db
supervisor:
  url: {{.URL}}
sinks:
  - {name: log, type: log}
routes:
  - sinks: [log]
listeners:
`

// transcript is one golden run of a listener binary.
type transcript struct {
	name   string // testdata/<name>.stdin and .stdout
	pkg    string // the listener's main package
	config string // superguard.yaml (see configHead)
	url    string // supervisord's URL; "" for a socket nobody serves
	events []event
	log    []logWant // log lines stderr must have
}

// play runs the listener on the transcript with its config and state store
// in a temporary directory, and checks its exit status, its stdout against
// the golden file and its stderr against log. It returns the state store's
// path and stderr.
func (tr transcript) play(t *testing.T) (statePath, stderr string) {
	t.Helper()
	dir := t.TempDir()
	statePath = filepath.Join(dir, "state.db")
	url := tr.url
	if url == "" {
		url = "unix://" + dir + "/no-supervisord.sock"
	}
	config := writeFile(t, dir, "superguard.yaml", strings.NewReplacer("{{.Dir}}", dir, "{{.URL}}", url).Replace(tr.config))
	stdin := envelopes(filepath.Base(tr.pkg), tr.events)
	r := runListener(t, tr.pkg, stdin, []string{"SUPERGUARD_CONFIG=" + config, "SUPERGUARD_STATE=" + statePath},
		"-config", config, "-state", statePath, "-log-level", "info")
	if r.code != 0 {
		t.Errorf("exit %d on EOF, want 0", r.code)
	}
	base := filepath.Join("testdata", tr.name)
	testsupport.Golden(t, base+".stdin", stdin)
	testsupport.Golden(t, base+".stdout", []byte(r.stdout))
	checkLog(t, r.stderr, tr.log)
	return statePath, r.stderr
}

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
	r := run{stdout: stdout.String(), stderr: stderr.String(), code: testsupport.ExitCode(t, err, pkg)}
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
