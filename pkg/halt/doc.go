// Package halt is superguard's kill switch engine: latch, stop, verify,
// flatten, resume and status. It halts trading the moment it is asked to
// and keeps it halted until a human resumes. The haltguard listener
// (listeners/haltguard) drives it from supervisord's events; its halt,
// resume and status subcommands call it directly.
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
//     SUPERGUARD_TRACE_ID in its environment; it may run again if the
//     listener restarts mid-halt, so make it idempotent);
//  4. verifies by polling getAllProcessInfo that every target is STOPPED,
//     EXITED or FATAL, stopping again any that started meanwhile; at the
//     deadline (Config.VerifyTimeout, default the targets' largest
//     stopwaitsecs plus VerifyMargin) survivors get SIGKILL through
//     signalProcess, else kill(2) of their pid;
//  5. reports the result through its Pager: what failed (with the tail of
//     its stderr), what was stopped and killed, how long it took and the
//     flatten result. The listener (listeners/haltguard) turns reports into
//     critical pages; the engine knows no alert sink, text or YAML.
//
// When supervisord cannot be reached (or refuses the credentials) the halt
// reports that at once and keeps retrying with a short backoff until it
// succeeds; it never gives up silently.
//
// Every automated action is an audit log line (message "audit", fields
// action and trace_id); the trace id is shared by every line and page of
// the incident and stored in the latch.
//
// The latch lives in the shared state store (StoreLatch). Any listener or
// command that starts or restarts processes reads it with Halted, which
// fails closed: nothing is started while trading is halted or while the
// latch cannot be read. Enforce stops targets found running while latched;
// Finish completes a halt interrupted by a restart; Resume clears the latch.
//
// Critical and Targets are procmatch patterns. What drives the engine from
// supervisord's events (the event policy, the pid death watch, remote
// commands) lives in listeners/haltguard.
//
// Test pause point: SUPERGUARD_TEST_PAUSE=haltguard-after-latch (tests only)
// makes a new halt write the file SUPERGUARD_TEST_PAUSE_FILE and block right
// after the latch is recorded, before any stop.
package halt
