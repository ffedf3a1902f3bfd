// Command haltguard is superguard's kill switch: when a safety-critical
// program (the risk manager) fails, it halts trading within milliseconds —
// every target process stopped at once, survivors SIGKILLed, an optional
// flatten command run, one critical page — and keeps it halted (the latch in
// the shared state store) until a human resumes. The engine is package
// github.com/superguard/superguard/pkg/halt; its documentation lists the
// halt's steps. This command holds what drives it: the event policy
// (guard.go: what halts, enforcement while latched, the checks on start-up,
// TICK and after a gap), the pid death watch (deathwatch.go), the remote
// commands (remote.go), the pages and their alert keys (page.go) and the
// config section (section.go).
//
// # supervisord
//
//	[eventlistener:haltguard]
//	command=/usr/local/bin/haltguard -config /etc/superguard/superguard.yaml
//	events=PROCESS_STATE,TICK_5,REMOTE_COMMUNICATION
//	buffer_size=1024
//	priority=1000
//	autostart=true
//	autorestart=true
//	startsecs=1
//	stopwaitsecs=15
//	stdout_logfile=NONE
//	stderr_logfile=/var/log/superguard/haltguard.log
//	environment=SUPERVISOR_USERNAME="superguard",SUPERVISOR_PASSWORD_FILE="/etc/superguard/secrets/supervisor.pass"
//
// and in the shared YAML config:
//
//	listeners:
//	  haltguard:
//	    critical: [risk_manager]          # programs whose failure halts trading
//	    targets: [trading]                # groups or programs a halt stops
//	    startup_grace: 60s                # a critical program must be RUNNING this long after supervisord starts
//	    verify_timeout: 0s                # 0: the targets' largest stopwaitsecs + 2s, then SIGKILL
//	    flatten:
//	      command: [/opt/trading/bin/flatten-all]
//	      timeout: 30s
//	    runbook: https://wiki.example.com/kill-switch
//
// Why these settings. supervisord runs one single-threaded loop that, when
// idle, turns once a second. It logs a death ("exited:") at once, but the
// EXITED event waits for the next turn; FATAL comes only after the
// program's retries, at least one more turn later; and a listener whose
// priority is lower than the program that raised an event gets it one turn
// later still (eventlisteners default to -1). So:
//
//   - a critical program that leaves RUNNING for any reason (an exit, FATAL,
//     BACKOFF, a stop by a person or a script, its removal from
//     supervisord's configuration) halts, so the first exit halts instead of
//     waiting for FATAL (measured: median 76 ms from "exited:" to the last
//     of 20 targets stopped, against about 3 s for a childutils listener
//     that halts on FATAL; see integration/haltguard's BenchmarkHalt);
//   - haltguard watches each critical program's pid (pidfd, Linux 5.3+) and,
//     when it dies, sends supervisord a few cheap requests so the loop turns
//     and dispatches the EXITED event within milliseconds instead of up to
//     1 s (about half of the EXITED events waited ~1 s without this);
//   - priority=1000 (above every program it watches) gets a FATAL to
//     haltguard in the loop turn that raised it. For EXITED the priority
//     hardly matters: the event comes from the turn after the death, where
//     supervisord also respawns the dead program (autorestart), and its
//     fork delays the stops whatever the priority — that respawn is most of
//     the 76 ms (29 ms when the critical program does not autorestart,
//     against 18 ms for a bare stopProcessGroup with no listener);
//   - TICK_5 drives the safety net: on every tick, on start-up and whenever
//     the event stream shows a gap, haltguard reads every process's state
//     and halts if a critical program is down, so a dropped event never
//     means a missed halt; buffer_size=1024 keeps drops rare;
//   - REMOTE_COMMUNICATION carries the remote switch (superguard.halt;
//     superguard.resume only with remote_resume: true, see remote.go);
//   - stdout_logfile=NONE: stdout is the protocol; logs (JSON, with an
//     "audit" line per action) go to stderr;
//   - the credentials come from environment= (supervisord does not pass its
//     own); without Basic auth, drop that line.
//
// A high priority also means supervisord starts haltguard last: after a
// reboot the strategies can spawn before it enforces the latch. Put the
// start gate in front of each strategy's command so that one refuses to run
// while trading is halted (it then goes FATAL with a clear message):
//
//	[program:strat_a]
//	command=/usr/local/bin/haltguard gate -- /opt/trading/bin/strat_a --live
//
// # Operator commands
//
// From any shell (the supervisord URL and credentials file come from the
// config's supervisor section, the state store from state_path):
//
//	haltguard halt --reason "broker outage"   # the manual kill switch
//	haltguard status                          # exit code 3 while halted
//	haltguard resume --start                  # refused while a critical program is not RUNNING (--force)
//	haltguard -check                          # validate the config, against supervisord when reachable
//	haltguard incidents | outbox | retry | drop
package main
