// Package harness runs superguard's end-to-end scenarios against a real
// supervisord: every integration test in the repository builds on it.
//
// Start writes a per-scenario supervisord.conf into a temporary directory
// (with the unix socket inside it), starts supervisord in the foreground in
// its own process group, waits until getState answers RUNNING, and hands back
// a *Supervisord with an XML-RPC client. t.Cleanup stops everything it started
// by PID: SIGTERM to supervisord, a deadline, then SIGKILL, and finally
// SIGKILL to any descendant that outlived it, so no child survives a test.
//
//	func TestExitedIsLogged(t *testing.T) {
//		t.Parallel()
//		s := harness.Start(t, harness.Options{Sections: `
//	[eventlistener:eventlog]
//	command={{bin "./listeners/eventlog"}}
//	events=PROCESS_STATE
//	buffer_size=1024
//	priority=1000
//	stdout_logfile=NONE
//	stderr_logfile={{.Dir}}/eventlog.err
//
//	[program:alpha]
//	command={{bin "./integration/cmd/fakestrategy"}} -exit-after 200ms -exit-code 3
//	startsecs=0
//	autorestart=false
//	`})
//		s.WaitProcessState(t, "alpha", supervisor.ProcessExited, 10*time.Second)
//		s.WaitListenerLog(t, "eventlog", `"eventname":"PROCESS_STATE_EXITED"`, 10*time.Second)
//	}
//
// # The conf template
//
// Options.Sections (and Options.ConfTemplate) are text/template text. Fields:
// {{.Dir}} the scenario directory, {{.Socket}} the unix socket path, {{.URL}}
// its "unix://" URL, {{.InetAddr}} and {{.InetURL}} the inet server when
// Options.Inet is set, {{.Username}} and {{.Password}}, and {{.Vars.key}} for
// Options.Vars. The function {{bin "./path/to/main"}} builds a main package of
// this module (or a tool such as github.com/ochinchina/supervisord) once per
// test binary and returns the executable's path. supervisord's own
// %(here)s also works and means the same directory as {{.Dir}}.
//
// # What fails a test
//
// A listener that breaks the protocol enters supervisord's UNKNOWN state and
// still shows RUNNING, and events dropped on a full buffer leave no trace but
// a log line; a test that only looks at process states passes over both. So
// at cleanup the harness scans supervisord's log for the Problems ("UNKNOWN
// state", "bad result line", "was rejected", "event buffer overflowed") and
// fails the test on any that Options.Expect or Options.Tolerate does not name;
// an Expect-ed problem that never showed up fails it too. When a test fails,
// the harness logs the conf, supervisord's output and log, and every
// process's stderr log.
//
// # Backends
//
// RealSupervisord (the default) is supervisord 4.x: $SUPERGUARD_SUPERVISORD,
// else supervisord on PATH, else the repo's .venv-supervisor (see
// scripts/install-supervisor.sh; `make test` sets $SUPERGUARD_SUPERVISORD).
// A missing or non-4.x supervisord fails the test rather than skipping it.
//
// GoSupervisord is github.com/ochinchina/supervisord v0.7.3, built from
// go.mod's tool block. It is a compatibility target with known differences
// (see README.md): payload len counts bytes, state names are Title-case,
// state events carry an empty groupname, there are no STOPPING/STOPPED
// events, every XML-RPC error is fault -32500, children get no SUPERVISOR_*
// environment (pass SUPERVISOR_SERVER_URL={{.URL}} with environment=), and
// when any eventlistener process exits the daemon panics and kills every
// child, so scenarios where a listener exits must skip it
// (SkipIfListenerExitUnsupported). It ignores stderr_logfile for event
// listeners and writes their stderr to its own output (Supervisord.OutPath,
// which StderrPath returns for them); give programs an explicit
// stderr_logfile there.
package harness
