package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/state"
)

// run runs crashpager's command line on the skeleton.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return listener.Run(spec, args, listener.IO{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

func TestRunCommandLine(t *testing.T) {
	good := writeConfig(t, "host: h1\nlisteners:\n  crashpager: {stable_for: 30s}\n")
	bad := writeConfig(t, "host: h1\nlisteners:\n  crashpager: {spree_threshold: 0, spree_window: 1ms}\n")
	badSink := writeConfig(t, "sinks: [{name: pd, type: pagerduty, routing_key_env: CRASHPAGER_TEST_UNSET_KEY}]\n")
	statePath := filepath.Join(t.TempDir(), "state.db")
	st, err := state.Open(context.Background(), statePath)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	// Cases without -config or -state must not fall back to the system
	// paths (/etc/superguard, /var/lib/superguard) of this host.
	t.Setenv("SUPERGUARD_CONFIG", good)
	t.Setenv("SUPERGUARD_STATE", statePath)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "check ok", args: []string{"-check", "-config", good}, wantCode: 0, wantStdout: "crashpager: config " + good + ": OK (file only)"},
		{name: "check names the bad field", args: []string{"-check", "-config", bad}, wantCode: 2,
			wantStderr: "listeners.crashpager.spree_window: 1ms: want at least 1s"},
		{name: "check names the bad sink", args: []string{"-check", "-config", badSink}, wantCode: 2,
			wantStderr: "sinks[0].routing_key_env: variable CRASHPAGER_TEST_UNSET_KEY is not set"},
		{name: "unknown flag", args: []string{"-bogus"}, wantCode: 2, wantStderr: "flag provided but not defined: -bogus"},
		{name: "help lists the commands", args: []string{"-h"}, wantCode: 0, wantStdout: "  incidents "},
		{name: "unknown command", args: []string{"incident"}, wantCode: 2,
			wantStderr: `crashpager: unknown command "incident" (commands: incidents, outbox, retry, drop; -h for help)`},
		{name: "version", args: []string{"--version"}, wantCode: 0, wantStdout: "crashpager dev (commit unknown, go"},
		{name: "operator command", args: []string{"incidents", "-config", good, "-state", statePath}, wantCode: 0},
		{name: "operator command usage", args: []string{"outbox", "-bogus"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SUPERVISOR_SERVER_URL", "")
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stdout %q stderr %q; want %q and %q", stdout.String(), stderr.String(), tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestRunListenerOnEmptyStdin(t *testing.T) {
	dir := t.TempDir()
	conf := writeConfig(t, "host: h1\nstate_path: "+filepath.Join(dir, "state.db")+"\n")
	t.Setenv("SUPERVISOR_SERVER_URL", "")
	t.Setenv("SUPERGUARD_STATE", "")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-config", conf}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d on EOF, want 0\n%s", code, stderr.String())
	}
	if stdout.String() != "READY\n" {
		t.Errorf("stdout %q, want only READY", stdout.String())
	}
	for _, want := range []string{`"message":"crashpager started"`, `"message":"stdin closed: exiting"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, stderr.String())
		}
	}
}

// TestBrokenStoreStillAcks runs the listener with a state path that cannot
// be created: every event is still acknowledged and the alert is logged
// in full as an error, the last resort.
func TestBrokenStoreStillAcks(t *testing.T) {
	conf := writeConfig(t, "host: h1\nstate_path: /proc/no-such-dir/state.db\n")
	t.Setenv("SUPERVISOR_SERVER_URL", "")
	t.Setenv("SUPERGUARD_STATE", "")
	in := frame(1, "PROCESS_STATE_EXITED", "processname:mm groupname:strat from_state:RUNNING expected:0 pid:41")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-config", conf}, strings.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, stderr.String())
	}
	if want := "READY\nRESULT 2\nOKREADY\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	for _, want := range []string{`"message":"state store unavailable: alerts go to this log only"`,
		`"message":"alert not recorded"`, `h1/strat:mm/exited`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, stderr.String())
		}
	}
}
