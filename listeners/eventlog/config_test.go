package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/superguard/superguard/internal/testsupport"
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
	testsupport.RunCLI(t, []testsupport.CLICase{
		{Name: "defaults", WantStdout: "READY\n"},
		{Name: "everything", Args: []string{"-events", "process_state, TICK_60,,", "-process", "strategies:*, risk_manager",
			"-dialect", "gosupervisord", "-log-level", "debug", "-state-file", "none"}, WantStdout: "READY\n"},
		{Name: "bad dialect", Args: []string{"-dialect", "supervisor3"}, WantCode: 2, WantStderr: `dialect "supervisor3": want supervisor4 or gosupervisord`},
		{Name: "unknown flag", Args: []string{"-verbose"}, WantCode: 2, WantStderr: "flag provided but not defined: -verbose"},
		{Name: "argument", Args: []string{"extra"}, WantCode: 2, WantStderr: `eventlog: unknown command "extra"`},
		{Name: "help", Args: []string{"-h"}, WantStdout: "Usage:"},
		{Name: "version", Args: []string{"--version"}, WantStdout: "eventlog dev (commit unknown, go"},
		{Name: "check", Args: []string{"-check", "-events", "TICK"}, WantStdout: "eventlog: config: OK"},
		{Name: "lower-case event", Args: []string{"-events", "tick_5!"}, WantCode: 2,
			WantStderr: `-events: \"TICK_5!\" is not an event name or prefix (A-Z, 0-9, _)`},
		{Name: "two colons", Args: []string{"-process", "a:b:c"}, WantCode: 2, WantStderr: `-process: pattern \"a:b:c\": want name or group:name`},
		{Name: "bad glob", Args: []string{"-process", "feed_[0-9"}, WantCode: 2, WantStderr: `-process: pattern \"feed_[0-9\": syntax error in pattern`},
		{Name: "log level", Args: []string{"-log-level", "loud"}, WantCode: 2, WantStderr: `log level \"loud\": want debug, info, warn or error`},
	}, func(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
		return listener.Run(spec, args, listener.IO{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	})
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
