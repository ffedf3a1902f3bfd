package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
)

// orNoEnv returns env, or an empty environment when env is nil.
func orNoEnv(env func(string) string) func(string) string {
	if env == nil {
		return testsupport.Getenv()
	}
	return env
}

func TestParseConfig(t *testing.T) {
	defaults := Config{Name: "fakestrategy", HealthStatus: 200, HealthBody: "ok", LogStream: "stdout"}
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want func(*Config)
	}{
		{name: "defaults", want: func(*Config) {}},
		{
			name: "flags",
			args: []string{
				"-name", "alpha", "-health-addr", "127.0.0.1:0", "-health-addr-file", "/tmp/a",
				"-health-status", "503", "-health-body", "degraded", "-health-file", "/tmp/h",
				"-exit-after", "1.5s", "-exit-code", "3", "-hang-after", "2s", "-ignore-sigterm",
				"-stop-delay", "250ms", "-grow-rate", "4MiB", "-grow-limit", "64MB",
				"-heartbeat", "500ms", "-heartbeat-data", "beat", "-log-text", "prix 42 €",
				"-log-every", "100ms", "-log-stream", "both", "-log-invalid-utf8",
				"-children", "2", "-child-grow-rate", "1MiB", "-child-grow-limit", "8MB",
				"-spin", "-spin-for", "3s", "-nofile", "1024", "-open-fds", "10",
			},
			want: func(c *Config) {
				*c = Config{
					Name: "alpha", HealthAddr: "127.0.0.1:0", HealthAddrFile: "/tmp/a",
					HealthStatus: 503, HealthBody: "degraded", HealthFile: "/tmp/h",
					ExitAfter: 1500 * time.Millisecond, ExitCode: 3, HangAfter: 2 * time.Second,
					IgnoreSIGTERM: true, StopDelay: 250 * time.Millisecond,
					GrowRate: 4 << 20, GrowLimit: 64e6, Heartbeat: 500 * time.Millisecond,
					HeartbeatData: "beat", LogText: "prix 42 €", LogEvery: 100 * time.Millisecond,
					LogStream: "both", LogInvalidUTF: true,
					Children: 2, ChildGrowRate: 1 << 20, ChildGrowLimit: 8e6,
					Spin: true, SpinFor: 3 * time.Second, NoFile: 1024, OpenFDs: 10,
				}
			},
		},
		{
			name: "environment fills flags not given",
			env: testsupport.Getenv("FAKESTRATEGY_EXIT_AFTER", "2s", "FAKESTRATEGY_EXIT_CODE", "7",
				"FAKESTRATEGY_IGNORE_SIGTERM", "true", "FAKESTRATEGY_LOG_TEXT", "株価 ✓",
				"FAKESTRATEGY_GROW_RATE", "1KiB", "FAKESTRATEGY_CHILDREN", "3", "FAKESTRATEGY_CHILD_GROW_LIMIT", "1MiB",
				"FAKESTRATEGY_SPIN", "true", "FAKESTRATEGY_SPIN_FOR", "1m", "FAKESTRATEGY_NOFILE", "512",
				"FAKESTRATEGY_OPEN_FDS", "5"),
			want: func(c *Config) {
				c.ExitAfter, c.ExitCode, c.IgnoreSIGTERM, c.LogText, c.GrowRate = 2*time.Second, 7, true, "株価 ✓", 1024
				c.Children, c.ChildGrowLimit, c.Spin, c.SpinFor, c.NoFile, c.OpenFDs = 3, 1<<20, true, time.Minute, 512, 5
			},
		},
		{
			name: "flag wins over environment",
			args: []string{"-exit-code", "4"},
			env:  testsupport.Getenv("FAKESTRATEGY_EXIT_CODE", "9"),
			want: func(c *Config) { c.ExitCode = 4 },
		},
		{
			name: "name from supervisord",
			env:  testsupport.Getenv("SUPERVISOR_PROCESS_NAME", "beta"),
			want: func(c *Config) { c.Name = "beta" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, orNoEnv(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			want := defaults
			tt.want(&want)
			if got != want {
				t.Errorf("parseConfig =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		wantErr string
	}{
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "flag provided but not defined"},
		{name: "bad duration", args: []string{"-exit-after", "soon"}, wantErr: "exit-after"},
		{name: "bad env value names the variable", env: testsupport.Getenv("FAKESTRATEGY_EXIT_CODE", "x"), wantErr: "FAKESTRATEGY_EXIT_CODE"},
		{name: "bad status", args: []string{"-health-status", "42"}, wantErr: "health-status 42"},
		{name: "bad exit code", args: []string{"-exit-code", "300"}, wantErr: "exit-code 300"},
		{name: "negative duration", args: []string{"-heartbeat", "-1s"}, wantErr: "negative"},
		{name: "addr file without addr", args: []string{"-health-addr-file", "/tmp/x"}, wantErr: "needs health-addr"},
		{name: "bad stream", args: []string{"-log-stream", "syslog"}, wantErr: `log-stream "syslog"`},
		{name: "log-every without text", args: []string{"-log-every", "1s"}, wantErr: "needs log-text"},
		{name: "bad size", args: []string{"-grow-rate", "lots"}, wantErr: `grow-rate: size "lots"`},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "negative children", args: []string{"-children", "-1"}, wantErr: "children -1: must not be negative"},
		{name: "negative nofile", args: []string{"-nofile", "-1"}, wantErr: "nofile -1: must not be negative"},
		{name: "negative open-fds", args: []string{"-open-fds", "-2"}, wantErr: "open-fds -2: must not be negative"},
		{name: "negative spin-for", args: []string{"-spin", "-spin-for", "-1s"}, wantErr: "spin-for -1s: must not be negative"},
		{name: "negative child-grow-rate", args: []string{"-children", "1", "-child-grow-rate", "-1MiB"}, wantErr: `child-grow-rate: size "-1MiB"`},
		{name: "bad child-grow-limit", args: []string{"-children", "1", "-child-grow-limit", "big"}, wantErr: `child-grow-limit: size "big"`},
		{name: "spin-for without spin", args: []string{"-spin-for", "1s"}, wantErr: "spin-for needs spin"},
		{name: "child-grow-rate without children", args: []string{"-child-grow-rate", "1MiB"}, wantErr: "need children"},
		{name: "child-grow-limit without children", env: testsupport.Getenv("FAKESTRATEGY_CHILD_GROW_LIMIT", "1MiB"), wantErr: "need children"},
		{name: "bad children env", env: testsupport.Getenv("FAKESTRATEGY_CHILDREN", "two"), wantErr: "FAKESTRATEGY_CHILDREN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, orNoEnv(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseConfig error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "4MiB", want: 4 << 20},
		{in: "4 MiB", want: 4 << 20},
		{in: "1.5KiB", want: 1536},
		{in: "500kB", want: 500000},
		{in: "2MB", want: 2000000},
		{in: "1GiB", want: 1 << 30},
		{in: "1GB", want: 1e9},
		{in: "12B", want: 12},
		{in: "-1", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "2XB", wantErr: true},
		{in: "1e30GB", wantErr: true},
		{in: "NaN", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseSize(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateNegativeSizes(t *testing.T) {
	// parseConfig refuses negative sizes while parsing them; Validate
	// catches a Config built directly.
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{Config{HealthStatus: 200, LogStream: "stdout", Children: 1, ChildGrowRate: -1}, "child-grow-rate -1: must not be negative"},
		{Config{HealthStatus: 200, LogStream: "stdout", Children: 1, ChildGrowLimit: -1}, "child-grow-limit -1: must not be negative"},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Validate(%+v) = %v, want it to contain %q", tt.cfg, err, tt.wantErr)
		}
	}
}
