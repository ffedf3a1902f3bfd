// Command haltguard is superguard's kill switch: when a safety-critical
// program (the risk manager) fails, it halts trading within milliseconds —
// every target process stopped at once, survivors SIGKILLed, an optional
// flatten command run, one critical page — and keeps it halted (the latch in
// the shared state store) until a human resumes. The engine is package
// github.com/superguard/superguard/pkg/halt; its documentation lists the
// halt's steps, the alert keys and the remote commands.
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
//	stderr_logfile=/var/log/supervisor/haltguard.err.log
//	environment=SUPERVISOR_USERNAME="superguard",SUPERVISOR_PASSWORD_FILE="/etc/superguard/supervisor.pass"
//
// and in the shared YAML config:
//
//	listeners:
//	  haltguard:
//	    critical: [risk_manager]          # programs whose failure halts trading
//	    targets: [trading]                # groups or programs a halt stops
//	    trigger_on_exited: true           # halt on the first unexpected EXITED, not only FATAL
//	    verify_timeout: 0s                # 0: the targets' largest stopwaitsecs + 2s, then SIGKILL
//	    flatten:
//	      command: [/opt/trading/bin/flatten-all]
//	      timeout: 30s
//	    runbook: https://wiki.example.com/kill-switch
//
// Why these settings: supervisord's idle main loop waits up to 1 s per turn.
// A process's death is logged "exited:" at once, but FATAL comes only after
// its retries, at least one more turn (~1 s) later; and an event raised by a
// program reaches a listener whose priority is lower than the program's one
// turn later still (eventlisteners default to -1). So:
//
//   - priority=1000 (above every program it watches) gets each event to
//     haltguard in the loop turn that raised it;
//   - trigger_on_exited: true halts on the first unexpected exit instead of
//     waiting for FATAL. Together they bring the time from the critical
//     program's death to the last target stopped from about 2 s to tens of
//     milliseconds (see integration/haltguard's benchmark);
//   - TICK_5 drives the safety net: on every tick, on start-up and whenever
//     the event stream shows a gap, haltguard reads every process's state
//     and halts if a critical program is down, so a dropped event never
//     means a missed halt; buffer_size=1024 keeps drops rare;
//   - REMOTE_COMMUNICATION carries the remote switch (superguard.halt,
//     superguard.resume: see pkg/halt);
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
