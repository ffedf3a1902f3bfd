// Package eventlistener speaks supervisord's eventlistener protocol: it
// writes READY, reads one event (a header line and a payload of `len`
// characters), hands a typed Event to a Handler and answers RESULT 2\nOK or
// RESULT 4\nFAIL, over an io.Reader and io.Writer that the caller passes in
// (a listener's stdin and stdout; nothing here touches the process's own standard output).
//
// # Protocol facts the loop relies on
//
//   - Real supervisord (Dialect Supervisor4) counts `len` in Unicode code
//     points, not bytes (upstream issue #1243), so the payload is read
//     character by character. Output that is not valid UTF-8 never reaches
//     the listener raw: supervisord 4.2.5 replaces it with the ASCII text
//     `Undecodable: b'...'`. The Go supervisord (Dialect GoSupervisord)
//     counts bytes.
//   - Only `OK` is success. Anything else re-sends the same event at once,
//     with no backoff, so a failing handler is answered FAIL at most
//     Options.MaxAttempts times, after a short growing delay, and then the
//     event is acknowledged and logged as an error.
//   - The result and the following READY are written in one write
//     (`RESULT 2\nOKREADY\n`); supervisord's state machine consumes both
//     from one buffer. Anything else on stdout puts the listener in the
//     UNKNOWN state for good.
//   - serial is one counter for the whole supervisord (it restarts at 0 with
//     it), poolserial one per pool. An event is identified by (supervisord
//     instance, pool, serial); a gap in poolserial means supervisord dropped
//     events because the pool's buffer overflowed. Gap detection assumes one
//     listener process per pool (numprocs=1): with several, each process
//     sees only part of the pool's events.
//
// # Delivery tracking
//
// Before the handler is called, the identity of the event in hand is saved
// to Options.StateFile (atomically, by a rename), so a listener killed
// mid-handler sees Event.Redelivered and a growing Event.Attempt after
// supervisord restarts it and re-sends the event. An event received more
// than MaxAttempts+1 times (a poison event that crashes the listener) is
// acknowledged without calling the handler.
//
// On a poolserial gap the handler's Reconcile method (see Reconciler) is
// called with every process's state from getAllProcessInfo before the event
// that revealed the gap is handed over.
package eventlistener
