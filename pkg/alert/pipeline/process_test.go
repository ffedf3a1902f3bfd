package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/pipeline/pipelinetest"
	"github.com/superguard/superguard/pkg/state"
)

// Environment of the helper process (TestHelperProcess).
const (
	envHelper = "PIPELINE_TEST_HELPER" // what the helper does
	envState  = "PIPELINE_TEST_STATE"  // the store's path
	envMarker = "PIPELINE_TEST_MARKER" // file the helper writes when it reached its point
	envCount  = "PIPELINE_TEST_COUNT"
)

// child starts this test binary as a helper process doing what, on the
// store at path. Its output is shown if the test fails.
func child(t *testing.T, what, path string, env ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), envHelper+"="+what, envState+"="+path)
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("helper %s output:\n%s", what, out.String())
		}
	})
	return cmd, &out
}

// waitFile waits for the helper's marker file.
func waitFile(t *testing.T, path string, cmd *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("helper never wrote %s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kill SIGKILLs the helper and reaps it.
func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// realPipeline builds a pipeline on the real clock over the store at path,
// with fake notifiers, as a listener process would.
func realPipeline(t testing.TB, path string, logs *testsupport.SyncBuffer) (*Pipeline, map[string]*pipelinetest.Notifier) {
	cfg := parseConfig(t, fastConfig)
	store, err := state.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	fakes := map[string]*pipelinetest.Notifier{}
	ns := map[string]alert.Notifier{}
	for _, s := range cfg.Sinks {
		f := pipelinetest.NewNotifier(s.Name)
		fakes[s.Name], ns[s.Name] = f, f
	}
	var w = zerolog.New(os.Stderr)
	if logs != nil {
		w = zerolog.New(logs)
	}
	p, err := New(Options{Store: store, Config: cfg, Notifiers: ns, Logger: w, Listener: "crashpager",
		PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p, fakes
}

func runPipeline(t *testing.T, p *Pipeline) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; p.store.Close() })
}

// TestHelperProcess is the other process of the tests below; it does
// nothing unless started by them.
func TestHelperProcess(t *testing.T) {
	what := os.Getenv(envHelper)
	if what == "" {
		t.Skip("helper process of the multi-process tests")
	}
	path := os.Getenv(envState)
	p, fakes := realPipeline(t, path, nil)
	ctx := context.Background()
	switch what {
	case "submit": // the pause point blocks inside Submit
		a := exit("g", "p", alert.Error)
		if err := p.Submit(ctx, &a); err != nil {
			t.Fatal(err)
		}
		t.Fatal("Submit returned despite the test pause")
	case "hang-sending": // deliver, and hang in the sink
		marker := os.Getenv(envMarker)
		fakes["slack"].SetHook(func(ctx context.Context, n *alert.Notification) (alert.Receipt, error) {
			if err := os.WriteFile(marker, nil, 0o600); err != nil {
				t.Error(err)
			}
			<-ctx.Done()
			return alert.Receipt{}, alert.Retry(ctx.Err(), 0)
		})
		go func() { _ = p.Run(ctx) }()
		a := exit("g", "p", alert.Error)
		if err := p.Submit(ctx, &a); err != nil {
			t.Fatal(err)
		}
		select {}
	case "submit-many":
		n, _ := strconv.Atoi(os.Getenv(envCount))
		for i := 0; i < n; i++ {
			a := exit("child", fmt.Sprintf("p%d", i), alert.Error)
			if err := p.Submit(ctx, &a); err != nil {
				t.Fatal(err)
			}
		}
	default:
		t.Fatalf("unknown helper %q", what)
	}
}

// TestKillAfterOutboxCommit: a listener killed right after Submit committed
// loses nothing; the next one delivers the row.
func TestKillAfterOutboxCommit(t *testing.T) {
	setSecrets(t)
	dir := t.TempDir()
	path, marker := filepath.Join(dir, "state.db"), filepath.Join(dir, "committed")
	cmd, _ := child(t, "submit", path, EnvTestPause+"="+PauseAfterCommit, EnvTestPauseFile+"="+marker)
	waitFile(t, marker, cmd)
	kill(t, cmd)

	store, err := state.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := store.ListDeliveries(context.Background(), state.Filter{})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(rows); !equal(got, []string{"slack trigger pending 1"}) {
		t.Fatalf("outbox after the kill = %q", got)
	}
	p, fakes := realPipeline(t, path, nil)
	runPipeline(t, p)
	calls := fakes["slack"].WaitCalls(t, 1)
	if calls[0].Key != alert.Key("h1", "g:p", alert.CondExited) {
		t.Errorf("delivered %s", pipelinetest.Describe(calls))
	}
}

// TestKillWhileSending: a listener killed in the middle of a delivery
// leaves the row sending and its lease held; another takes over at once
// (the holder's pid is gone) and delivers it.
func TestKillWhileSending(t *testing.T) {
	setSecrets(t)
	dir := t.TempDir()
	path, marker := filepath.Join(dir, "state.db"), filepath.Join(dir, "sending")
	cmd, _ := child(t, "hang-sending", path, envMarker+"="+marker)
	waitFile(t, marker, cmd)
	kill(t, cmd)

	logs := &testsupport.SyncBuffer{}
	p, fakes := realPipeline(t, path, logs)
	var d *state.Delivery
	var lease state.Lease
	err := p.store.View(context.Background(), func(tx *state.Tx) error {
		var err error
		if d, err = tx.Head("slack"); err != nil {
			return err
		}
		lease, _, err = tx.Lease("slack")
		return err
	})
	if err != nil || d == nil || d.Status != state.Sending {
		t.Fatalf("row after the kill = %+v, %v; want sending", d, err)
	}
	if lease.PID != cmd.Process.Pid {
		t.Fatalf("lease = %+v, want held by the killed helper %d", lease, cmd.Process.Pid)
	}
	runPipeline(t, p)
	fakes["slack"].WaitCalls(t, 1)
	if time.Now().After(lease.ExpiresAt) {
		t.Errorf("took over only after the dead holder's lease expired at %v", lease.ExpiresAt)
	}
	h := &harness{t: t, store: p.store}
	got := h.waitRow(d.ID, "sent", func(d *state.Delivery) bool { return d.Status == state.Sent })
	if got.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", got.Attempts)
	}
	waitLog(t, logs, "resuming a delivery")
}

// TestTwoProcesses: rows another process commits are delivered by this
// process's senders (which hold the leases), each exactly once.
func TestTwoProcesses(t *testing.T) {
	setSecrets(t)
	path := filepath.Join(t.TempDir(), "state.db")
	const n = 30
	p, fakes := realPipeline(t, path, nil)
	runPipeline(t, p)
	cmd, out := child(t, "submit-many", path, envCount+"="+strconv.Itoa(n))
	for i := 0; i < n; i++ {
		a := exit("parent", fmt.Sprintf("p%d", i), alert.Error)
		if err := p.Submit(context.Background(), &a); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	calls := fakes["slack"].WaitCalls(t, 2*n)
	seen := map[string]int{}
	for _, c := range calls {
		seen[c.Key]++
	}
	if len(seen) != 2*n {
		t.Errorf("%d distinct keys delivered, want %d", len(seen), 2*n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", k, c)
		}
	}
	// Once every row is sent nothing can be delivered again.
	h := &harness{t: t, store: p.store}
	for _, d := range h.rows() {
		h.waitRow(d.ID, "sent", func(d *state.Delivery) bool { return d.Status == state.Sent })
	}
	if got := len(fakes["slack"].Calls()); got != 2*n {
		t.Errorf("%d deliveries, want %d", got, 2*n)
	}
}
