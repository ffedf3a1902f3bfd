package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/eventrecord"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "minimal",
			args: []string{"-record", "/r"},
			env:  testsupport.Getenv(),
			check: func(t *testing.T, c Config) {
				if c.Record != "/r" || c.FailFirst != 0 || c.FailMatch != nil || c.Dialect != eventlistener.Supervisor4 ||
					c.Pause != "" || c.PauseMarker != "/r.paused" || c.Reconcile {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{
			name: "everything",
			args: []string{"-record", "/r", "-state-file", "/s", "-fail-first", "2", "-fail-match", "^REMOTE_",
				"-max-attempts", "5", "-dialect", "gosupervisord", "-reconcile", "-reconcile-on-start", "-handler-grace", "1s"},
			env: testsupport.Getenv(EnvPause, "TICK_5", EnvPauseMarker, "/m"),
			check: func(t *testing.T, c Config) {
				if c.StateFile != "/s" || c.FailFirst != 2 || c.FailMatch.String() != "^REMOTE_" || c.MaxAttempts != 5 ||
					c.Dialect != eventlistener.GoSupervisord || !c.Reconcile || !c.OnStart || c.Grace != time.Second ||
					c.Pause != "TICK_5" || c.PauseMarker != "/m" {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{name: "record required", args: nil, env: testsupport.Getenv(), wantErr: "-record is required"},
		{name: "bad regexp", args: []string{"-record", "/r", "-fail-match", "("}, env: testsupport.Getenv(), wantErr: "-fail-match"},
		{name: "bad dialect", args: []string{"-record", "/r", "-dialect", "python"}, env: testsupport.Getenv(), wantErr: "-dialect"},
		{name: "negative", args: []string{"-record", "/r", "-fail-first", "-1"}, env: testsupport.Getenv(), wantErr: "negative"},
		{name: "on start alone", args: []string{"-record", "/r", "-reconcile-on-start"}, env: testsupport.Getenv(), wantErr: "needs -reconcile"},
		{name: "stray args", args: []string{"-record", "/r", "x"}, env: testsupport.Getenv(), wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, tt.env, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseConfig error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// frame builds one event as real supervisord sends it (len in characters).
func frame(serial, poolserial int64, name, payload string) string {
	return testsupport.Envelope("tl", serial, poolserial, name, payload)
}

func TestRunFailFirst(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseConfig([]string{"-record", filepath.Join(dir, "rec"), "-fail-first", "2", "-fail-match", "^REMOTE_COMMUNICATION$"}, testsupport.Getenv(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	remote := frame(5, 2, "REMOTE_COMMUNICATION", "type:test\nprix 42 €")
	in := frame(4, 1, "TICK_5", "when:1700000000") + remote + remote + remote + frame(6, 3, "REMOTE_COMMUNICATION", "type:test\nnext")
	var out strings.Builder
	if err := Run(context.Background(), cfg, strings.NewReader(in), &out, io.Discard); err != nil {
		t.Fatalf("Run: %v", err)
	}
	wantOut := "READY\n" + "RESULT 2\nOKREADY\n" + "RESULT 4\nFAILREADY\n" + "RESULT 4\nFAILREADY\n" + "RESULT 2\nOKREADY\n" + "RESULT 2\nOKREADY\n"
	if out.String() != wantOut {
		t.Errorf("stdout = %q, want %q", out.String(), wantOut)
	}
	recs, err := eventrecord.ReadFile(cfg.Record)
	if err != nil {
		t.Fatal(err)
	}
	type delivery struct {
		serial      int64
		answer      string
		attempt     int
		redelivered bool
	}
	var got []delivery
	for _, r := range recs {
		got = append(got, delivery{r.Serial, r.Answer, r.Attempt, r.Redelivered})
		if r.PID != os.Getpid() {
			t.Errorf("record pid = %d, want %d", r.PID, os.Getpid())
		}
	}
	want := []delivery{{4, "OK", 1, false}, {5, "FAIL", 1, false}, {5, "FAIL", 2, true}, {5, "OK", 3, true}, {6, "OK", 1, false}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("deliveries = %v, want %v", got, want)
	}
	if recs[1].Payload != "type:test\nprix 42 €" || recs[1].Fields["type"] != "test" {
		t.Errorf("record payload = %q fields %v", recs[1].Payload, recs[1].Fields)
	}
}

func TestRunPause(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseConfig([]string{"-record", filepath.Join(dir, "rec"), "-handler-grace", "10ms"},
		testsupport.Getenv(EnvPause, "PROCESS_STATE_RUNNING"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	running := frame(9, 1, "PROCESS_STATE_RUNNING", "processname:a groupname:a from_state:STARTING pid:42")
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out strings.Builder
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, pr, &out, io.Discard) }()
	go func() { _, _ = io.WriteString(pw, running) }()

	testsupport.WaitFor(t, 10*time.Second, "the pause marker", func() bool {
		b, err := os.ReadFile(cfg.PauseMarker)
		return err == nil && strings.TrimSpace(string(b)) == "9"
	})
	recs, err := eventrecord.ReadFile(cfg.Record)
	if err != nil || len(recs) != 1 || recs[0].Answer != eventrecord.AnswerPaused || recs[0].Serial != 9 {
		t.Fatalf("records while paused = %+v, %v", recs, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still blocked after cancel")
	}

	// The marker exists now: the re-sent event (after a "restart") is handled.
	var out2 strings.Builder
	if err := Run(context.Background(), cfg, strings.NewReader(running), &out2, io.Discard); err != nil {
		t.Fatal(err)
	}
	if out2.String() != "READY\nRESULT 2\nOKREADY\n" {
		t.Errorf("after restart stdout = %q", out2.String())
	}
}

func TestRunMalformedHeader(t *testing.T) {
	cfg, err := parseConfig([]string{"-record", filepath.Join(t.TempDir(), "rec")}, testsupport.Getenv(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = Run(context.Background(), cfg, strings.NewReader("this is not a header\n"), &out, io.Discard)
	if !errors.Is(err, eventlistener.ErrProtocol) {
		t.Fatalf("Run error = %v, want ErrProtocol", err)
	}
	if out.String() != "READY\n" {
		t.Errorf("stdout = %q, want only READY", out.String())
	}
}
