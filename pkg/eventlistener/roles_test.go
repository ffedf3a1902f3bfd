package eventlistener_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/logging"
	"github.com/superguard/superguard/pkg/supervisor"
)

// The test binary doubles as the eventlistener processes that real
// supervisord runs in the tests: TestMain switches on envRole.
const (
	envRole    = "EVENTLISTENER_TEST_ROLE" // "recorder" | "listener"
	envOut     = "EVENTLISTENER_TEST_OUT"  // file the role appends its records to
	envState   = "EVENTLISTENER_TEST_STATE"
	envRelease = "EVENTLISTENER_TEST_RELEASE" // file whose existence releases a "block" event
)

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "recorder":
		os.Exit(runRecorder(os.Stdin, os.Stdout, os.Getenv(envOut)))
	case "listener":
		os.Exit(runTestListener())
	}
	os.Exit(m.Run())
}

// recordedFrame is one event exactly as supervisord wrote it.
type recordedFrame struct {
	Header  string `json:"header"`  // the header line, without "\n"
	Payload string `json:"payload"` // every byte that followed it before we answered
	Bytes   int    `json:"bytes"`   // len(Payload)
	Chars   int    `json:"chars"`   // Unicode code points in Payload
	Valid   bool   `json:"valid"`   // Payload is valid UTF-8
}

// runRecorder is a protocol peer that does not trust `len`: after a header
// line it takes every byte that arrives until the pipe has been quiet for
// quietPeriod (supervisord sends nothing more until it gets an answer), so
// what it records shows how len relates to what really arrives. It answers
// like childutils: "RESULT 2\nOK" and "READY\n" in two writes. out gets one
// JSON recordedFrame per line, and out+".stdin" every byte read.
func runRecorder(stdin io.Reader, stdout io.Writer, out string) int {
	const quietPeriod = 300 * time.Millisecond
	frames, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "recorder:", err)
		return 2
	}
	raw, err := os.OpenFile(out+".stdin", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "recorder:", err)
		return 2
	}
	chunks := make(chan []byte, 64)
	go func() {
		defer close(chunks)
		for {
			b := make([]byte, 64<<10)
			n, err := stdin.Read(b)
			if n > 0 {
				chunks <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	if _, err := io.WriteString(stdout, "READY\n"); err != nil {
		return 2
	}
	var pending []byte
	for {
		// Wait for a complete header line.
		for bytes.IndexByte(pending, '\n') < 0 {
			c, ok := <-chunks
			if !ok {
				return 0
			}
			pending = append(pending, c...)
		}
		// Then for the pipe to go quiet.
		for quiet := false; !quiet; {
			select {
			case c, ok := <-chunks:
				if !ok {
					quiet = true
					break
				}
				pending = append(pending, c...)
			case <-time.After(quietPeriod):
				quiet = true
			}
		}
		i := bytes.IndexByte(pending, '\n')
		payload := string(pending[i+1:])
		rec := recordedFrame{Header: string(pending[:i]), Payload: payload, Bytes: len(payload),
			Chars: len([]rune(payload)), Valid: utf8.ValidString(payload)}
		line, _ := json.Marshal(rec)
		if _, err := frames.Write(append(line, '\n')); err != nil {
			return 2
		}
		if _, err := raw.Write(pending); err != nil {
			return 2
		}
		pending = pending[:0]
		if _, err := io.WriteString(stdout, "RESULT 2\nOK"); err != nil {
			return 2
		}
		if _, err := io.WriteString(stdout, "READY\n"); err != nil {
			return 2
		}
	}
}

// listenerRecord is one line written by the "listener" role.
type listenerRecord struct {
	Event     *eventlistener.Event          `json:"event,omitempty"`
	Reconcile *eventlistener.Reconciliation `json:"reconcile,omitempty"`
}

// runTestListener runs eventlistener.Run as a real listener would, with a
// handler that appends every event (and reconciliation) to $envOut and
// obeys REMOTE_COMMUNICATION commands by their type:
//
//	"crash": exit 3 the first time it is received (a listener killed mid-handler)
//	"fail":  return an error every time
//	"block": wait until the file $envRelease exists
func runTestListener() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log, err := logging.New(os.Stderr, "eventlistener-test", "debug")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out, err := os.OpenFile(os.Getenv(envOut), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		log.Error().Err(err).Msg("open output")
		return 2
	}
	h := &recordingHandler{out: out, release: os.Getenv(envRelease)}
	opts := eventlistener.Options{Logger: log, StateFile: os.Getenv(envState)}
	if os.Getenv("SUPERVISOR_SERVER_URL") != "" {
		c, err := supervisor.New(supervisor.ConfigFromEnv())
		if err != nil {
			log.Error().Err(err).Msg("supervisor client")
			return 2
		}
		opts.Processes = c
	}
	if err := eventlistener.Run(ctx, os.Stdin, os.Stdout, h, opts); err != nil {
		log.Error().Err(err).Msg("run")
		return 1
	}
	return 0
}

type recordingHandler struct {
	out     *os.File
	release string
}

var (
	_ eventlistener.Handler    = (*recordingHandler)(nil)
	_ eventlistener.Reconciler = (*recordingHandler)(nil)
)

func (h *recordingHandler) write(r listenerRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = h.out.Write(append(b, '\n'))
	return err
}

func (h *recordingHandler) HandleEvent(ctx context.Context, ev *eventlistener.Event) error {
	if err := h.write(listenerRecord{Event: ev}); err != nil {
		return err
	}
	if ev.Remote == nil {
		return nil
	}
	switch ev.Remote.Type {
	case "crash":
		if ev.Attempt == 1 {
			os.Exit(3)
		}
	case "fail":
		return errors.New("told to fail")
	case "block":
		for {
			if _, err := os.Stat(h.release); err == nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

func (h *recordingHandler) Reconcile(_ context.Context, r eventlistener.Reconciliation) error {
	return h.write(listenerRecord{Reconcile: &r})
}
