package logging

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

func TestNewWritesJSONWithListener(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "eventlog", "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug().Str("eventname", "TICK_5").Msg("event")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %q: %v", buf.String(), err)
	}
	for k, want := range map[string]string{"listener": "eventlog", "level": "debug", "eventname": "TICK_5", "message": "event"} {
		if m[k] != want {
			t.Errorf("%s = %v, want %q", k, m[k], want)
		}
	}
	if _, ok := m["time"]; !ok {
		t.Error("no time field")
	}
}

func TestNewLevels(t *testing.T) {
	tests := []struct {
		level   string
		env     string
		wantErr bool
		logs    bool // does an info line appear
	}{
		{level: "info", logs: true},
		{level: "WARN", logs: false},
		{level: "", env: "error", logs: false},
		{level: "", env: "", logs: true},
		{level: "loud", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.level+"/"+tt.env, func(t *testing.T) {
			t.Setenv(EnvLevel, tt.env)
			var buf bytes.Buffer
			log, err := New(&buf, "x", tt.level)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			log.Info().Msg("hello")
			if got := buf.Len() > 0; got != tt.logs {
				t.Errorf("info logged = %v, want %v", got, tt.logs)
			}
		})
	}
}

// TestNewWhileAnotherLoggerLogs: listeners and their tests build loggers
// while others are already writing; New must not touch zerolog's global
// settings then (go test -race catches it).
func TestNewWhileAnotherLoggerLogs(t *testing.T) {
	first, err := New(io.Discard, "a", "info")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				first.Info().Msg("tick")
			}
		}
	}()
	for range 100 {
		if _, err := New(io.Discard, "b", "info"); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	<-done
}
