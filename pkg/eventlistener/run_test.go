package eventlistener_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/supervisor"
)

// env builds one real-supervisord envelope (len in characters).
func env(serial, poolSerial int64, name, payload string) string {
	h := eventlistener.Header{Ver: "3.0", Server: "supervisor", Serial: serial, Pool: "p",
		PoolSerial: poolSerial, EventName: name, Len: len([]rune(payload))}
	return h.String() + "\n" + payload
}

// runAsync starts Run in a goroutine and returns a channel with its result.
func runAsync(ctx context.Context, r io.Reader, w io.Writer, h eventlistener.Handler, opts eventlistener.Options) <-chan error {
	done := make(chan error, 1)
	go func() { done <- eventlistener.Run(ctx, r, w, h, opts) }()
	return done
}

func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// Run must return on cancellation while blocked reading, whether the reader
// can be interrupted with a deadline (os.Pipe) or not (io.Pipe).
func TestRunCancelWhileWaiting(t *testing.T) {
	tests := []struct {
		name string
		pipe func(t *testing.T) (io.Reader, io.Writer)
		// the reader goroutine stays blocked in Read after Run returns,
		// and takes what comes next: only the other modes leave stdin usable
		goroutine bool
	}{
		{name: "io.Pipe (reader goroutine)", goroutine: true, pipe: func(t *testing.T) (io.Reader, io.Writer) {
			r, w := io.Pipe()
			t.Cleanup(func() { r.Close() })
			return r, w
		}},
		{name: "os.Pipe (poll)", pipe: func(t *testing.T) (io.Reader, io.Writer) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close(); w.Close() })
			return r, w
		}},
		{name: "blocking os.Pipe, like stdin (poll)", pipe: func(t *testing.T) (io.Reader, io.Writer) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Fd() // puts the descriptor in blocking mode
			t.Cleanup(func() { r.Close(); w.Close() })
			return r, w
		}},
		{name: "net.Pipe (read deadline)", pipe: func(t *testing.T) (io.Reader, io.Writer) {
			r, w := net.Pipe()
			t.Cleanup(func() { r.Close(); w.Close() })
			return r, w
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin, feed := tt.pipe(t)
			var stdout testsupport.SyncBuffer
			var handled sync.WaitGroup
			handled.Add(1)
			h := eventlistener.HandlerFunc(func(context.Context, *eventlistener.Event) error {
				handled.Done()
				return nil
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := runAsync(ctx, stdin, &stdout, h, eventlistener.Options{Instance: "t"})
			if _, err := io.WriteString(feed, env(1, 1, "TICK_5", "when:1")); err != nil {
				t.Fatal(err)
			}
			handled.Wait()
			testsupport.WaitFor(t, 10*time.Second, "the second READY", func() bool { return stdout.String() == "READY\nRESULT 2\nOKREADY\n" })
			cancel()
			if err := waitRun(t, done); err != nil {
				t.Fatalf("Run after cancel: %v", err)
			}
			if tt.goroutine {
				return
			}
			// Whatever interrupted Run (a deadline, the poll's wake-up pipe)
			// leaves stdin usable.
			go io.WriteString(feed, "x")
			b := make([]byte, 1)
			if _, err := io.ReadFull(stdin, b); err != nil || b[0] != 'x' {
				t.Fatalf("stdin unusable after Run: %q, %v", b, err)
			}
		})
	}
}

// Cancellation while the handler runs: the handler keeps a live context
// (within HandlerGrace), its answer is written without a following READY,
// and Run returns nil.
func TestRunFinishesEventInHand(t *testing.T) {
	stdin, feed := io.Pipe()
	defer stdin.Close()
	var stdout testsupport.SyncBuffer
	started, release := make(chan struct{}), make(chan struct{})
	var hctxErr error
	h := eventlistener.HandlerFunc(func(ctx context.Context, _ *eventlistener.Event) error {
		close(started)
		<-release
		hctxErr = ctx.Err()
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, stdin, &stdout, h, eventlistener.Options{Instance: "t"})
	go io.WriteString(feed, env(1, 1, "TICK_5", "when:1"))
	<-started
	cancel()
	close(release)
	if err := waitRun(t, done); err != nil {
		t.Fatal(err)
	}
	if hctxErr != nil {
		t.Errorf("handler context: %v, want live within the grace period", hctxErr)
	}
	if got := stdout.String(); got != "READY\nRESULT 2\nOK" {
		t.Errorf("stdout = %q, want the answer and no READY", got)
	}
}

// A handler that outlives HandlerGrace after cancellation sees its context
// cancelled; its error is answered FAIL so the restarted listener gets the
// event again.
func TestRunHandlerGrace(t *testing.T) {
	stdin, feed := io.Pipe()
	defer stdin.Close()
	var stdout testsupport.SyncBuffer
	started := make(chan struct{})
	h := eventlistener.HandlerFunc(func(ctx context.Context, _ *eventlistener.Event) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, stdin, &stdout, h, eventlistener.Options{Instance: "t", HandlerGrace: 20 * time.Millisecond})
	go io.WriteString(feed, env(1, 1, "TICK_5", "when:1"))
	<-started
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "READY\nRESULT 4\nFAIL" {
		t.Errorf("stdout = %q", got)
	}
}

func TestRunWriteError(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		failFrom int // the write that fails: 1 is READY
	}{
		{name: "READY", failFrom: 1},
		{name: "result", failFrom: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &failingWriter{failFrom: tt.failFrom, err: boom}
			in := strings.NewReader(env(1, 1, "TICK_5", "when:1"))
			err := eventlistener.Run(context.Background(), in, w, eventlistener.HandlerFunc(
				func(context.Context, *eventlistener.Event) error { return nil }), eventlistener.Options{Instance: "t"})
			if !errors.Is(err, boom) {
				t.Fatalf("Run = %v, want boom", err)
			}
		})
	}
}

type failingWriter struct {
	n, failFrom int
	err         error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n >= w.failFrom {
		return 0, w.err
	}
	return len(p), nil
}

// reconcileHandler records reconciliations and the stdout seen at the time.
type reconcileHandler struct {
	stdout  *testsupport.SyncBuffer
	err     error
	recs    []eventlistener.Reconciliation
	atStart []string // stdout when each Reconcile was called
	events  int
}

func (h *reconcileHandler) HandleEvent(context.Context, *eventlistener.Event) error {
	h.events++
	return nil
}

func (h *reconcileHandler) Reconcile(ctx context.Context, r eventlistener.Reconciliation) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("no deadline")
	}
	h.recs = append(h.recs, r)
	h.atStart = append(h.atStart, h.stdout.String())
	return h.err
}

type listerFunc func(ctx context.Context) ([]supervisor.ProcessInfo, error)

func (f listerFunc) GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error) {
	return f(ctx)
}

func TestRunReconcile(t *testing.T) {
	procs := []supervisor.ProcessInfo{{Name: "a", Group: "a", State: supervisor.ProcessRunning}}
	ok := listerFunc(func(context.Context) ([]supervisor.ProcessInfo, error) { return procs, nil })
	gapStream := env(1, 1, "TICK_5", "when:1") + env(9, 5, "TICK_5", "when:2")
	unblock := make(chan struct{})
	t.Cleanup(func() { close(unblock) })
	tests := []struct {
		name      string
		lister    eventlistener.ProcessLister
		onStart   bool
		recErr    error
		wantRecs  []eventlistener.Reconciliation
		wantLog   string
		wantStart string // stdout when the first Reconcile ran
	}{
		{name: "on start, before READY", lister: ok, onStart: true,
			wantRecs: []eventlistener.Reconciliation{
				{Reason: "start", Processes: procs},
				{Reason: "gap", Pool: "p", Missed: 3, Processes: procs}},
			wantLog: `"message":"reconciled"`},
		{name: "on a gap, before the event", lister: ok,
			wantRecs:  []eventlistener.Reconciliation{{Reason: "gap", Pool: "p", Missed: 3, Processes: procs}},
			wantLog:   `"eventname":"TICK_5","serial":9,"pool":"p","poolserial":5,"reason":"gap","missed":3,"processes":1,"message":"reconciled"`,
			wantStart: "READY\nRESULT 2\nOKREADY\n"},
		{name: "lister fails", lister: listerFunc(func(context.Context) ([]supervisor.ProcessInfo, error) {
			return nil, errors.New("connection refused")
		}), wantLog: `"error":"connection refused","message":"reconciliation failed"`},
		{name: "lister hangs past the deadline", lister: listerFunc(func(context.Context) ([]supervisor.ProcessInfo, error) {
			<-unblock // ignores ctx: Run must not wait for it
			return nil, nil
		}), wantLog: `context deadline exceeded","message":"reconciliation failed"`},
		{name: "Reconcile fails", lister: ok, recErr: errors.New("bad state"),
			wantRecs: []eventlistener.Reconciliation{{Reason: "gap", Pool: "p", Missed: 3, Processes: procs}},
			wantLog:  `"error":"bad state","processes":1,"message":"reconciliation failed"`},
		{name: "no client", lister: nil, wantLog: "no supervisor client is configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, logs testsupport.SyncBuffer
			h := &reconcileHandler{stdout: &stdout, err: tt.recErr}
			err := eventlistener.Run(context.Background(), strings.NewReader(gapStream), &stdout, h, eventlistener.Options{
				Logger: zerolog.New(&logs), Processes: tt.lister, Instance: "t",
				ReconcileOnStart: tt.onStart, ReconcileTimeout: 50 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if h.events != 2 || stdout.String() != "READY\n"+strings.Repeat("RESULT 2\nOKREADY\n", 2) {
				t.Fatalf("events handled %d, stdout %q: reconciliation must not hold events back", h.events, stdout.String())
			}
			if fmt.Sprint(h.recs) != fmt.Sprint(tt.wantRecs) {
				t.Fatalf("reconciliations %+v, want %+v", h.recs, tt.wantRecs)
			}
			if len(h.recs) > 0 && tt.onStart && h.atStart[0] != "" {
				t.Errorf("start reconciliation ran after READY was written (%q)", h.atStart[0])
			}
			if tt.wantStart != "" && h.atStart[0] != tt.wantStart {
				t.Errorf("gap reconciliation ran when stdout was %q, want %q (before the gap event's answer)", h.atStart[0], tt.wantStart)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
		})
	}
}

// A listener that dies in the handler (simulated with runtime.Goexit, which
// ends Run's goroutine without returning) is restarted by supervisord and
// gets the same event again: with a state file, it knows. After
// MaxAttempts+1 deliveries the event is acknowledged without the handler.
func TestRunRedeliveryAcrossRestarts(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	stream := env(7, 3, "PROCESS_STATE_EXITED", "processname:a groupname:a from_state:RUNNING expected:0 pid:1")
	var attempts []int
	var redelivered []bool
	h := eventlistener.HandlerFunc(func(_ context.Context, ev *eventlistener.Event) error {
		attempts = append(attempts, ev.Attempt)
		redelivered = append(redelivered, ev.Redelivered)
		runtime.Goexit()
		return nil
	})
	var logs testsupport.SyncBuffer
	opts := eventlistener.Options{Instance: "t", StateFile: state, MaxAttempts: 2, Logger: zerolog.New(&logs)}
	for i := range 4 {
		var stdout bytes.Buffer
		done := make(chan error, 1)
		go func() {
			defer close(done)
			done <- eventlistener.Run(context.Background(), strings.NewReader(stream), &stdout, h, opts)
		}()
		<-done
		want := "READY\n" // died in the handler: no answer
		if i == 3 {
			want = "READY\nRESULT 2\nOKREADY\n" // given up: acknowledged
		}
		if stdout.String() != want {
			t.Fatalf("run %d: stdout %q, want %q", i+1, stdout.String(), want)
		}
	}
	if fmt.Sprint(attempts) != "[1 2 3]" || fmt.Sprint(redelivered) != "[false true true]" {
		t.Fatalf("attempts %v redelivered %v, want [1 2 3] [false true true] (handler skipped on the 4th)", attempts, redelivered)
	}
	if !strings.Contains(logs.String(), "event received too often without an answer") {
		t.Errorf("poison event not logged:\n%s", logs.String())
	}
	// A new supervisord (another instance) starts serials again: no redelivery.
	opts.Instance = "t2"
	attempts = nil
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eventlistener.Run(context.Background(), strings.NewReader(stream), io.Discard, h, opts)
	}()
	<-done
	if fmt.Sprint(attempts) != "[1]" {
		t.Fatalf("after a supervisord restart: attempts %v, want [1]", attempts)
	}
}

func TestRunBadStateFile(t *testing.T) {
	err := eventlistener.Run(context.Background(), strings.NewReader(""), io.Discard,
		eventlistener.HandlerFunc(func(context.Context, *eventlistener.Event) error { return nil }),
		eventlistener.Options{StateFile: filepath.Join(t.TempDir(), "missing-dir", "state.json")})
	if err == nil || !strings.Contains(err.Error(), "missing-dir") {
		t.Fatalf("Run with a state file in a missing directory: %v", err)
	}
}
