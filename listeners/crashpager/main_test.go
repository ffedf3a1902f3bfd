package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superguard/superguard/internal/testsupport"
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
	testsupport.RunCLI(t, []testsupport.CLICase{
		{Name: "check ok", Args: []string{"-check", "-config", good}, WantCode: 0, WantStdout: "crashpager: config " + good + ": OK (no supervisord configured"},
		{Name: "check names the bad field", Args: []string{"-check", "-config", bad}, WantCode: 2,
			WantStderr: "listeners.crashpager.spree_window: 1ms: want at least 1s"},
		{Name: "check names the bad sink", Args: []string{"-check", "-config", badSink}, WantCode: 2,
			WantStderr: "sinks[0].routing_key_env: variable CRASHPAGER_TEST_UNSET_KEY is not set"},
		{Name: "unknown flag", Args: []string{"-bogus"}, WantCode: 2, WantStderr: "flag provided but not defined: -bogus"},
		{Name: "help lists the commands", Args: []string{"-h"}, WantCode: 0, WantStdout: "  incidents "},
		{Name: "unknown command", Args: []string{"incident"}, WantCode: 2,
			WantStderr: `crashpager: unknown command "incident" (commands: incidents, outbox, retry, drop, test-alert; -h for help)`},
		{Name: "version", Args: []string{"--version"}, WantCode: 0, WantStdout: "crashpager dev (commit unknown, go"},
		{Name: "operator command", Args: []string{"incidents", "-config", good, "-state", statePath}, WantCode: 0},
		{Name: "operator command usage", Args: []string{"outbox", "-bogus"}, WantCode: 2},
	}, run)
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
