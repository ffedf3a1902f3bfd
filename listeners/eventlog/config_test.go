package main

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/supervisor"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Config
		wantErr string
	}{
		{name: "defaults", args: nil, want: DefaultConfig()},
		{name: "everything", args: []string{"-events", "process_state, TICK_60,,", "-process", "strategies:*, risk_manager",
			"-dialect", "gosupervisord", "-log-level", "debug", "-state-file", "/var/lib/sg/eventlog.state"},
			want: Config{Events: []string{"PROCESS_STATE", "TICK_60"}, Processes: []string{"strategies:*", "risk_manager"},
				Dialect: eventlistener.GoSupervisord, LogLevel: "debug", StateFile: "/var/lib/sg/eventlog.state"}},
		{name: "bad dialect", args: []string{"-dialect", "supervisor3"}, wantErr: `dialect "supervisor3": want supervisor4 or gosupervisord`},
		{name: "unknown flag", args: []string{"-verbose"}, wantErr: "flag provided but not defined: -verbose"},
		{name: "argument", args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
		{name: "help", args: []string{"-h"}, wantErr: flag.ErrHelp.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			got, err := parseFlags(tt.args, &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if !strings.Contains(out.String(), "Usage of eventlog") {
					t.Errorf("no usage printed: %q", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{name: "defaults", mod: func(*Config) {}},
		{name: "all filters", mod: func(c *Config) {
			c.Events = []string{"EVENT", "PROCESS_STATE_EXITED", "TICK_5"}
			c.Processes = []string{"a", "g:a", "g:*", "feed_[0-9]", "*"}
		}},
		{name: "lower-case event", mod: func(c *Config) { c.Events = []string{"tick_5"} },
			wantErr: `-events: "tick_5" is not an event name or prefix (A-Z, 0-9, _)`},
		{name: "empty event", mod: func(c *Config) { c.Events = []string{""} },
			wantErr: `-events: "" is not an event name or prefix (A-Z, 0-9, _)`},
		{name: "two colons", mod: func(c *Config) { c.Processes = []string{"a:b:c"} },
			wantErr: `-process: pattern "a:b:c": want name or group:name`},
		{name: "bad glob", mod: func(c *Config) { c.Processes = []string{"feed_[0-9"} },
			wantErr: `-process: pattern "feed_[0-9": syntax error in pattern`},
		{name: "empty pattern", mod: func(c *Config) { c.Processes = []string{""} },
			wantErr: "-process: empty pattern"},
		{name: "dialect", mod: func(c *Config) { c.Dialect = 9 },
			wantErr: "-dialect: dialect(9): want supervisor4 or gosupervisord"},
		{name: "log level", mod: func(c *Config) { c.LogLevel = "loud" },
			wantErr: `-log-level: log level "loud": want debug, info, warn or error`},
		{name: "supervisor URL", mod: func(c *Config) { c.Supervisor = supervisor.Config{URL: "ftp://x"} },
			wantErr: "SUPERVISOR_SERVER_URL: "},
		{name: "supervisor password without user", mod: func(c *Config) {
			c.Supervisor = supervisor.Config{URL: "unix:///run/s.sock", Password: "hunter2"}
		}, wantErr: "SUPERVISOR_SERVER_URL: password given without a username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mod(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

// Run validates its Config too: it is the entry point tests and main share.
func TestRunRejectsBadConfig(t *testing.T) {
	err := Run(t.Context(), Config{Events: []string{"x"}}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "-events:") {
		t.Fatalf("Run = %v", err)
	}
}
