package logging

import (
	"bytes"
	"encoding/json"
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
