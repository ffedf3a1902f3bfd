// Package pipeline turns listener alerts into deliveries: it deduplicates
// and aggregates them in the shared incident ledger, applies quiet hours and
// maintenance windows, routes them to sinks, and commits one outbox row per
// sink — all in one SQLite transaction — before Submit returns. Sender
// goroutines started by Run then drain the outbox to the sinks with rate
// limits, per-attempt deadlines, backoff and dead letters.
//
// # Submitting
//
// A listener calls Submit while handling an event and acks supervisord only
// after it returns. Submit does no network I/O and is bounded by its
// context and Options.SubmitTimeout. When the store fails (disk full,
// permissions, a lock held too long), Submit logs the whole alert as an
// error (secrets redacted) and returns the error: the listener carries on
// (acks, halts) and never blocks on a broken store. An alert whose
// SourceID+Key was submitted before is a no-op, so an event supervisord
// re-sends adds nothing.
//
// # Incidents and deduplication
//
// Alerts with the same Key belong to one incident from the first trigger to
// the resolve; a trigger after the resolve opens a new incident with a new
// id. Reports of one key by several listeners merge into that incident:
// details merged, actions concatenated, listeners recorded, and the
// occurrence count is the highest any one listener reported (two listeners
// seeing the same crash count it once).
//
// Notifications follow these rules, per key:
//
//   - The first trigger notifies at once. Later occurrences within
//     dedup.window of the last trigger notification are absorbed. The first
//     notification after the window (a repeat, sent when the window ends if
//     nothing else sends it earlier) carries the count absorbed. Count on a
//     trigger is always "occurrences not reported before", so the counts of
//     a key's trigger notifications add up to its occurrences: a crash loop
//     of 20 exits inside one window gives one notification (Count 1) in the
//     window and one (Count 19) when it ends.
//   - A new incident of a key that notified within the window is held the
//     same way, unless it is more severe than that notification; if it has
//     resolved by the end of the window, the held occurrences are reported
//     as a trigger followed by its resolve.
//   - Within an open incident, a higher severity or a new Action (typically
//     another listener reporting what it did) notifies at once as an update
//     of the same incident (same incident id and key, so PagerDuty updates
//     rather than opens). Count on an update may be 0 when it only adds an
//     action. Keep Action free of counters, or every report is "new".
//   - An incident still open reminder after its last notification gets a
//     reminder (Reminder set, Count the incident's total).
//   - A key that opened or resolved incidents dedup.flap.changes times
//     within dedup.flap.window is flapping: its notifications are marked
//     Flapping and it notifies at most once per flap window (updates for a
//     higher severity still go at once).
//   - A resolve goes to every sink that was sent (or tried) the incident's
//     trigger, exactly once, with Count the incident's total. If a sink's
//     trigger had not been attempted yet, both are cancelled (rows kept,
//     status cancelled, logged) — nothing is sent. An incident that was
//     never notified resolves silently.
//
// Quiet hours lower the severity one step (critical stays critical) before
// routing; maintenance windows record triggers in the ledger but send
// nothing (a still-open incident notifies once the window ends). Alerts with
// Condition halt or budget are exempt from both. Resolves are never held.
//
// # Delivery
//
// Run starts one sender per sink. For the whole host, one process at a time
// holds a sink's lease (in the store) and drains its queue (state.Tx.Next):
// each incident's rows strictly in order, so a resolve never overtakes its
// trigger, while a row in retry backoff holds up only its own incident, and
// urgent incidents (halt, budget, listener, or critical) go before the
// others; the sink's rate limit is global; a lease whose holder died (its pid is gone) is taken over at
// once, otherwise when it expires. Rows another process's sender left
// "sending" are resumed. Senders wake at once on a Submit in the same
// process and poll the store every Options.PollInterval for rows written by
// others.
//
// Each attempt has the sink's timeout as deadline. A retryable failure
// (alert.IsRetryable) backs off exponentially with jitter from
// Options.BackoffBase up to Options.BackoffMax, never sooner than the
// failure's RetryAfter (at least 30 s for PagerDuty when it asked to wait);
// a permanent failure dead-letters the row, logged as an error, until an
// operator retries or drops it (package opscli). The receipt of a delivered
// trigger (alert.Receipt.Ref) is kept and passed as Notification.Ref on the
// incident's later notifications to that sink. A Notifier with a
// RefreshInterval() method gets the trigger of every still-open incident
// re-sent at that interval (Alertmanager forgets alerts that are not
// re-posted).
//
// # Kill tests
//
// With SUPERGUARD_TEST_PAUSE=after-outbox-commit in the environment,
// Submit writes the file named by SUPERGUARD_TEST_PAUSE_FILE right after its
// transaction commits and then blocks forever, so a test can SIGKILL the
// process and check that the outbox row survived. It is for tests only.
package pipeline
