package eventlistener_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/supervisor"
)

// scriptedHandler records what Run hands over and fails REMOTE_COMMUNICATION
// events by type: "fail" always, "fail-once" on the first attempt.
type scriptedHandler struct {
	records []listenerRecord
}

var (
	_ eventlistener.Handler    = (*scriptedHandler)(nil)
	_ eventlistener.Reconciler = (*scriptedHandler)(nil)
)

func (h *scriptedHandler) HandleEvent(_ context.Context, ev *eventlistener.Event) error {
	h.records = append(h.records, listenerRecord{Event: ev})
	if ev.Remote != nil {
		switch {
		case ev.Remote.Type == "fail":
			return errors.New("told to fail")
		case ev.Remote.Type == "fail-once" && ev.Attempt == 1:
			return errors.New("told to fail once")
		}
	}
	return nil
}

func (h *scriptedHandler) Reconcile(_ context.Context, r eventlistener.Reconciliation) error {
	h.records = append(h.records, listenerRecord{Reconcile: &r})
	return nil
}

// fixedLister is a ProcessLister with a fixed answer.
type fixedLister []supervisor.ProcessInfo

var _ eventlistener.ProcessLister = fixedLister(nil)

func (f fixedLister) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	return f, nil
}

var goldenProcesses = fixedLister{
	{Name: "engine", Group: "strategies", State: supervisor.ProcessRunning, StateName: "RUNNING", PID: 4243,
		Start: time.Unix(1700000000, 0).UTC(), Now: time.Unix(1700000100, 0).UTC(), Description: "pid 4243, uptime 0:01:40"},
	{Name: "feed", Group: "feed", State: supervisor.ProcessFatal, StateName: "FATAL",
		Stop: time.Unix(1700000050, 0).UTC(), Now: time.Unix(1700000100, 0).UTC(), SpawnErr: "Exited too quickly"},
}

// TestGoldenTranscripts runs Run on recorded stdin and compares what it
// writes on stdout (the protocol), what it hands the handler, and what it
// logs with the golden files. The *.stdin inputs are made by
// testdata/golden/make_stdin.py (an envelope builder mirroring supervisord's)
// or captured from real supervisord 4.2.5 (TestCaptureSupervisord).
func TestGoldenTranscripts(t *testing.T) {
	tests := []struct {
		name    string
		stdin   string
		dialect eventlistener.Dialect
		wantErr error
	}{
		{name: "families", stdin: "testdata/golden/families.stdin"},
		{name: "gosupervisord", stdin: "testdata/golden/gosupervisord.stdin", dialect: eventlistener.GoSupervisord},
		{name: "delivery", stdin: "testdata/golden/delivery.stdin"},
		{name: "bad_payloads", stdin: "testdata/golden/bad_payloads.stdin"},
		{name: "bad_header", stdin: "testdata/golden/bad_header.stdin", wantErr: eventlistener.ErrProtocol},
		{name: "truncated", stdin: "testdata/golden/truncated.stdin", wantErr: io.ErrUnexpectedEOF},
		{name: "captured-supervisor-4.2.5", stdin: capturedName + ".stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := os.ReadFile(tt.stdin)
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			h := &scriptedHandler{}
			err = eventlistener.Run(context.Background(), bytes.NewReader(in), &stdout, h, eventlistener.Options{
				Dialect:   tt.dialect,
				Logger:    zerolog.New(&stderr).Level(zerolog.InfoLevel),
				Processes: goldenProcesses,
				Instance:  "golden",
				FailDelay: time.Millisecond,
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Run: %v, want %v", err, tt.wantErr)
			}
			events, err := json.MarshalIndent(h.records, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join("testdata", "golden", tt.name)
			testsupport.Golden(t, base+".stdout", stdout.Bytes())
			testsupport.Golden(t, base+".events.json", append(events, '\n'))
			testsupport.Golden(t, base+".stderr", stderr.Bytes())
		})
	}
}
