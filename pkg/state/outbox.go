package state

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

// Status is where a delivery stands in the outbox.
//
//	pending   -> sending      a sender claimed it
//	sending   -> sent         the sink accepted it
//	sending   -> pending      a retryable failure; next_attempt_at set by backoff
//	sending   -> dead         a permanent failure (dead letter); an operator may retry it
//	pending   -> cancelled    superseded (e.g. resolved before its trigger was sent) or dropped
//	dead      -> pending      retried by an operator
//
// A row left sending by a killed process is resumed as if it were pending.
type Status string

// Delivery statuses.
const (
	Pending   Status = "pending"
	Sending   Status = "sending"
	Sent      Status = "sent"
	Dead      Status = "dead"
	Cancelled Status = "cancelled"
)

// Purpose says why a delivery was queued.
type Purpose string

// Delivery purposes. Every purpose but PurposeResolve is a trigger for the
// sink (alert.Trigger).
const (
	PurposeTrigger  Purpose = "trigger"  // an incident's first notification
	PurposeUpdate   Purpose = "update"   // severity rose or a new action was reported
	PurposeRepeat   Purpose = "repeat"   // occurrences absorbed during the dedup window
	PurposeReminder Purpose = "reminder" // still firing after the reminder interval
	PurposeRefresh  Purpose = "refresh"  // re-post for a sink that forgets firing alerts (Alertmanager)
	PurposeResolve  Purpose = "resolve"  // the condition cleared
)

// Kind returns alert.Resolve for PurposeResolve and alert.Trigger otherwise.
func (p Purpose) Kind() alert.Kind {
	if p == PurposeResolve {
		return alert.Resolve
	}
	return alert.Trigger
}

// Delivery is one outbox row: one notification for one sink.
type Delivery struct {
	ID            int64
	Sink          string
	Purpose       Purpose
	Notification  alert.Notification // IncidentID, Key and Kind come from here
	Status        Status
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	SentAt        time.Time
	LastError     string // already free of secrets
	Ref           string // the sink's Receipt.Ref once sent
}

const deliveryColumns = `id, sink, purpose, notification, status, attempts, next_attempt_at,
	created_at, updated_at, sent_at, last_error, ref`

func scanDelivery(sc scanner) (*Delivery, error) {
	var d Delivery
	var next, created, updated, sent int64
	var nJSON string
	if err := sc.Scan(&d.ID, &d.Sink, &d.Purpose, &nJSON, &d.Status, &d.Attempts, &next,
		&created, &updated, &sent, &d.LastError, &d.Ref); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.SentAt = fromNanos(next), fromNanos(created), fromNanos(updated), fromNanos(sent)
	if err := json.Unmarshal([]byte(nJSON), &d.Notification); err != nil {
		return nil, fmt.Errorf("delivery %d: notification: %w", d.ID, err)
	}
	return &d, nil
}

func (t *Tx) deliveries(query string, args ...any) ([]*Delivery, error) {
	return queryAll(t, scanDelivery, query, args...)
}

// Enqueue inserts d (Status defaults to Pending, NextAttemptAt to CreatedAt)
// and returns its id. The row's incident must exist.
func (t *Tx) Enqueue(d *Delivery) (int64, error) {
	n := &d.Notification
	if d.Sink == "" || n.IncidentID == "" || n.Key == "" {
		return 0, errors.New("enqueue: sink, incident id and key are required")
	}
	if d.Status == "" {
		d.Status = Pending
	}
	if d.NextAttemptAt.IsZero() {
		d.NextAttemptAt = d.CreatedAt
	}
	n.Kind = d.Purpose.Kind()
	nJSON, err := json.Marshal(n)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s for %s: %w", d.Purpose, d.Sink, err)
	}
	res, err := t.exec(`INSERT INTO outbox (sink, incident_id, key, kind, purpose, notification, status, attempts,
			next_attempt_at, created_at, updated_at, sent_at, last_error, ref)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Sink, n.IncidentID, n.Key, string(n.Kind), string(d.Purpose), string(nJSON), string(d.Status), d.Attempts,
		nanos(d.NextAttemptAt), nanos(d.CreatedAt), nanos(d.CreatedAt), nanos(d.SentAt), d.LastError, d.Ref)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s for %s: %w", d.Purpose, d.Sink, err)
	}
	d.ID, err = res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("enqueue %s for %s: %w", d.Purpose, d.Sink, err)
	}
	d.UpdatedAt = d.CreatedAt
	return d.ID, nil
}

// Deliveries returns every outbox row of an incident, oldest first.
func (t *Tx) Deliveries(incidentID string) ([]*Delivery, error) {
	ds, err := t.deliveries(`SELECT `+deliveryColumns+` FROM outbox WHERE incident_id = ? ORDER BY id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("deliveries of incident %s: %w", incidentID, err)
	}
	return ds, nil
}

// Delivery returns the outbox row with this id, or nil when there is none.
func (t *Tx) Delivery(id int64) (*Delivery, error) {
	d, _, err := queryOne(t, scanDelivery, `SELECT `+deliveryColumns+` FROM outbox WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("delivery %d: %w", id, err)
	}
	return d, nil
}

// Cancel moves a pending row to cancelled with reason as its last error. It
// reports false when the row was not pending (a sender holds it, or it is
// finished).
func (t *Tx) Cancel(id int64, reason string, now time.Time) (bool, error) {
	n, err := t.changes(`UPDATE outbox SET status = 'cancelled', last_error = ?, updated_at = ?
		WHERE id = ? AND status = 'pending'`, reason, nanos(now), id)
	if err != nil {
		return false, fmt.Errorf("cancel delivery %d: %w", id, err)
	}
	return n == 1, nil
}

// Head returns the sink's oldest unfinished row (pending, or sending left by
// a sender that died), or nil when the sink's queue is empty. (Senders take
// their next row with Next.)
func (t *Tx) Head(sink string) (*Delivery, error) {
	d, _, err := queryOne(t, scanDelivery, `SELECT `+deliveryColumns+` FROM outbox
		WHERE sink = ? AND status IN ('pending', 'sending') ORDER BY id LIMIT 1`, sink)
	if err != nil {
		return nil, fmt.Errorf("head of %s: %w", sink, err)
	}
	return d, nil
}

// Next returns the row a sink's sender delivers next at now, or nil, and
// when the earliest row not yet due becomes due (zero: none waits). Rows of
// one incident go strictly in order (a resolve never overtakes its
// trigger, an update never its first notification), but an incident's rows
// never wait behind another incident's: a row in retry backoff holds up
// only its own incident. Among the incidents whose next row is due, urgent
// ones (a halt, a spent budget, a listener down, or anything critical) go
// first, then the oldest.
func (t *Tx) Next(sink string, now time.Time) (*Delivery, time.Time, error) {
	const heads = `FROM outbox o WHERE o.sink = ? AND o.status IN ('pending', 'sending')
		AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.sink = o.sink AND e.incident_id = o.incident_id
			AND e.status IN ('pending', 'sending') AND e.id < o.id)`
	d, _, err := queryOne(t, scanDelivery, `SELECT `+deliveryColumns+` `+heads+` AND o.next_attempt_at <= ?
		ORDER BY CASE WHEN json_extract(o.notification, '$.severity') = 'critical'
			OR json_extract(o.notification, '$.condition') IN ('halt', 'budget', 'listener') THEN 0 ELSE 1 END, o.id
		LIMIT 1`, sink, nanos(now))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("next of %s: %w", sink, err)
	}
	var wait sql.NullInt64
	if err := t.queryRow(`SELECT MIN(o.next_attempt_at) `+heads+` AND o.next_attempt_at > ?`, sink, nanos(now)).Scan(&wait); err != nil {
		return nil, time.Time{}, fmt.Errorf("next of %s: %w", sink, err)
	}
	var until time.Time
	if wait.Valid {
		until = time.Unix(0, wait.Int64)
	}
	return d, until, nil
}

// Claim marks row id sending and counts the attempt, provided owner still
// holds the sink's sender lease, which it extends to leaseUntil. It reports
// false when the lease was lost or the row is no longer pending or sending.
func (t *Tx) Claim(sink string, id int64, owner string, now, leaseUntil time.Time) (bool, error) {
	n, err := t.changes(`UPDATE sender_leases SET expires_at = ? WHERE sink = ? AND owner = ?`, nanos(leaseUntil), sink, owner)
	if err != nil || n == 0 {
		return false, err
	}
	n, err = t.changes(`UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?
		WHERE id = ? AND sink = ? AND status IN ('pending', 'sending')`, nanos(now), id, sink)
	if err != nil {
		return false, fmt.Errorf("claim delivery %d: %w", id, err)
	}
	return n == 1, nil
}

// SentRef returns the sink reference stored by the incident's first
// delivered notification to sink that had one ("" when none has).
func (t *Tx) SentRef(incidentID, sink string) (string, error) {
	var ref string
	err := t.queryRow(`SELECT ref FROM outbox WHERE incident_id = ? AND sink = ? AND status = 'sent' AND ref <> ''
		ORDER BY id LIMIT 1`, incidentID, sink).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sent ref of incident %s on %s: %w", incidentID, sink, err)
	}
	return ref, nil
}

// MarkSent records a successful delivery and the sink's reference.
func (t *Tx) MarkSent(id int64, ref string, now time.Time) error {
	_, err := t.exec(`UPDATE outbox SET status = 'sent', ref = ?, sent_at = ?, updated_at = ?, last_error = ''
		WHERE id = ?`, ref, nanos(now), nanos(now), id)
	if err != nil {
		return fmt.Errorf("mark delivery %d sent: %w", id, err)
	}
	return nil
}

// MarkRetry puts a failed row back to pending, not to be tried before next.
// A row an operator dropped meanwhile stays dropped.
func (t *Tx) MarkRetry(id int64, next time.Time, lastErr string, now time.Time) error {
	_, err := t.exec(`UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND status = 'sending'`, nanos(next), lastErr, nanos(now), id)
	if err != nil {
		return fmt.Errorf("mark delivery %d for retry: %w", id, err)
	}
	return nil
}

// MarkDead dead-letters a row that failed permanently.
func (t *Tx) MarkDead(id int64, lastErr string, now time.Time) error {
	_, err := t.exec(`UPDATE outbox SET status = 'dead', last_error = ?, updated_at = ?
		WHERE id = ? AND status = 'sending'`, lastErr, nanos(now), id)
	if err != nil {
		return fmt.Errorf("mark delivery %d dead: %w", id, err)
	}
	return nil
}

// RefreshDue returns, for each open incident, its newest trigger delivery to
// sink when that one was sent at or before sentBefore and nothing for the
// incident is queued on sink: the rows a sink that needs re-posting (see
// Purpose Refresh) should get again.
func (t *Tx) RefreshDue(sink string, sentBefore time.Time) ([]*Delivery, error) {
	ds, err := t.deliveries(`SELECT `+deliveryColumns+` FROM outbox o WHERE o.id IN (
			SELECT max(x.id) FROM outbox x JOIN incidents i ON i.id = x.incident_id
			WHERE x.sink = ? AND x.kind = 'trigger' AND x.status <> 'cancelled' AND i.status = 'open'
			GROUP BY x.incident_id)
		AND o.status = 'sent' AND o.sent_at <= ?
		AND NOT EXISTS (SELECT 1 FROM outbox q WHERE q.incident_id = o.incident_id AND q.sink = o.sink
			AND q.status IN ('pending', 'sending'))
		ORDER BY o.id`, sink, nanos(sentBefore))
	if err != nil {
		return nil, fmt.Errorf("refresh due on %s: %w", sink, err)
	}
	return ds, nil
}

// Filter selects outbox rows for listing.
type Filter struct {
	Statuses []Status // empty: every status
	Sink     string   // empty: every sink
	Limit    int      // 0: no limit
}

// where builds the WHERE clause selecting f's rows.
func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	if len(f.Statuses) > 0 {
		conds = append(conds, "status IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.Statuses)), ", ")+")")
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	if f.Sink != "" {
		conds = append(conds, "sink = ?")
		args = append(args, f.Sink)
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}
