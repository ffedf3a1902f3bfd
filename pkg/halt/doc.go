// Package halt is superguard's kill switch engine: it halts trading the
// moment a safety-critical program fails and keeps it halted until a human
// resumes. The haltguard listener (listeners/haltguard) drives it from
// supervisord's events; its halt, resume and status subcommands call it
// directly.
//
// A halt (Engine.Halt), in this order:
//
//  1. records the halt latch in the shared state store, on its own
//     goroutine: a slow or failing write never delays the stops; a failed
//     write is logged, paged and retried in the background, and the engine
//     counts itself latched meanwhile;
//  2. stops every target at once with stopProcess(name, wait=false) — by
//     default all of them in one system.multicall, so supervisord's
//     single-threaded loop parses one request, and no process ever waits on
//     another (StopMode);
//  3. runs the optional flatten command (argv, no shell, with a timeout and
//     SUPERGUARD_HALT_REASON, SUPERGUARD_HALT_TRIGGER, SUPERGUARD_HALT_BY and
//     SUPERGUARD_TRACE_ID in its environment; it may run again if haltguard
//     restarts mid-halt, so make it idempotent);
//  4. verifies by polling getAllProcessInfo that every target is STOPPED,
//     EXITED or FATAL, stopping again any that started meanwhile; at the
//     deadline (Config.VerifyTimeout, default the targets' largest
//     stopwaitsecs plus VerifyMargin) survivors get SIGKILL through
//     signalProcess, else kill(2) of their pid;
//  5. pages critical through the alert pipeline: what failed (with the tail
//     of its stderr), what was stopped and killed, how long it took, the
//     flatten result and how to resume.
//
// When supervisord cannot be reached (or refuses the credentials) the halt
// pages that at once and keeps retrying with a short backoff until it
// succeeds; it never gives up silently.
//
// Every automated action is an audit log line (message "audit", fields
// action and trace_id); the trace id is shared by every line and alert of
// the incident and stored in the latch.
//
// Alert keys: a halt caused by a FATAL pages under the FATAL's own key
// (alert.Key(host, "group:program", alert.CondFatal)), which crashpager uses
// too, so the failure and the halt are one incident; other automatic halts
// use the trigger's key with alert.CondHalt, manual ones
// alert.Key(host, "", alert.CondHalt).
//
// supervisord queues a death's EXITED event for the next turn of its idle
// main loop, up to 1 s later; the Guard watches each critical program's pid
// (pidfd, Linux 5.3+) and, when it dies, nudges supervisord with a few
// cheap requests so the event is dispatched within milliseconds.
//
// While latched (Guard): a target seen starting is stopped again and
// reported; on start-up an unfinished halt is finished, so a haltguard
// killed mid-halt completes it once supervisord restarts it. A check of the
// critical programs' states on start-up, on every TICK and after a gap in
// the event stream halts when one is down, so a dropped event never means a
// missed halt. A critical program found down that was already down before a
// forced resume does not halt again.
//
// Remote control: REMOTE_COMMUNICATION events of type RemoteHalt
// ("superguard.halt", data {"reason": "...", "by": "..."}) and RemoteResume
// ("superguard.resume", data {"by": "...", "start": true, "force": false}),
// sent with supervisord's sendRemoteCommEvent, do what the halt and resume
// subcommands do.
//
// Test pause point: SUPERGUARD_TEST_PAUSE=haltguard-after-latch (tests only)
// makes a new halt write the file SUPERGUARD_TEST_PAUSE_FILE and block right
// after the latch is recorded, before any stop.
package halt
