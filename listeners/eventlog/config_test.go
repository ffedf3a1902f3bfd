package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/superguard/superguard/pkg/listener"
)

// run runs eventlog's command line on the skeleton with stdin as the
// protocol stream.
func run(args []string, stdin string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = listener.Run(spec, args, listener.IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "defaults", wantStdout: "READY\n"},
		{name: "everything", args: []string{"-events", "process_state, TICK_60,,", "-process", "strategies:*, risk_manager",
			"-dialect", "gosupervisord", "-log-level", "debug", "-state-file", "none"}, wantStdout: "READY\n"},
		{name: "bad dialect", args: []string{"-dialect", "supervisor3"}, wantCode: 2, wantStderr: `dialect "supervisor3": want supervisor4 or gosupervisord`},
		{name: "unknown flag", args: []string{"-verbose"}, wantCode: 2, wantStderr: "flag provided but not defined: -verbose"},
		{name: "argument", args: []string{"extra"}, wantCode: 2, wantStderr: `eventlog: unknown command "extra"`},
		{name: "help", args: []string{"-h"}, wantStdout: "Usage:"},
		{name: "version", args: []string{"--version"}, wantStdout: "eventlog dev (commit unknown, go"},
		{name: "check", args: []string{"-check", "-events", "TICK"}, wantStdout: "eventlog: config: OK"},
		{name: "lower-case event", args: []string{"-events", "tick_5!"}, wantCode: 2,
			wantStderr: `-events: \"TICK_5!\" is not an event name or prefix (A-Z, 0-9, _)`},
		{name: "two colons", args: []string{"-process", "a:b:c"}, wantCode: 2, wantStderr: `-process: pattern \"a:b:c\": want name or group:name`},
		{name: "bad glob", args: []string{"-process", "feed_[0-9"}, wantCode: 2, wantStderr: `-process: pattern \"feed_[0-9\": syntax error in pattern`},
		{name: "log level", args: []string{"-log-level", "loud"}, wantCode: 2, wantStderr: `log level \"loud\": want debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SUPERVISOR_SERVER_URL", "")
			code, stdout, stderr := run(tt.args, "")
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantStdout) || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestBadSupervisorURL(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "scheme", env: map[string]string{"SUPERVISOR_SERVER_URL": "ftp://x"}, wantErr: "scheme must be unix, http or https"},
		{name: "password without user", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///run/s.sock", "SUPERVISOR_PASSWORD": "hunter2"},
			wantErr: "password given without a username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"SUPERVISOR_SERVER_URL", "SUPERVISOR_USERNAME", "SUPERVISOR_PASSWORD", "SUPERVISOR_PASSWORD_FILE"} {
				t.Setenv(k, tt.env[k])
			}
			code, _, stderr := run(nil, "")
			if code != listener.ExitUsage || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, listener.ExitUsage, tt.wantErr)
			}
			if strings.Contains(stderr, "hunter2") {
				t.Fatalf("stderr shows the password: %s", stderr)
			}
		})
	}
}
