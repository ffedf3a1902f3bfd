package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

// ErrNotFound is returned when an operator names an outbox row that does not
// exist.
var ErrNotFound = errors.New("not found")

// ListDeliveries returns the outbox rows matching f, oldest first.
func (s *Store) ListDeliveries(ctx context.Context, f Filter) ([]*Delivery, error) {
	where, args := f.where()
	q := `SELECT ` + deliveryColumns + ` FROM outbox` + where + ` ORDER BY id`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var out []*Delivery
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.deliveries(q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}

// OpenIncidents returns every open incident, oldest first.
func (s *Store) OpenIncidents(ctx context.Context) ([]*Incident, error) {
	var out []*Incident
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.OpenIncidents()
		return err
	})
	return out, err
}

// RecentIncidents returns the incidents open now or resolved at or after
// since, newest first, at most limit (0: all).
func (s *Store) RecentIncidents(ctx context.Context, since time.Time, limit int) ([]*Incident, error) {
	var out []*Incident
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.RecentIncidents(since, limit)
		return err
	})
	return out, err
}

// Retry puts the dead-lettered row id back in its sink's queue, to be tried
// at once. Retrying a trigger of an incident that has since resolved also
// puts a resolve behind it (the incident's dead-lettered resolve on that
// sink if it has one, else a new one), so the retry never leaves a page
// open and never sends two resolves. It returns the ids queued.
func (s *Store) Retry(ctx context.Context, id int64, now time.Time) ([]int64, error) {
	var ids []int64
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		ids, err = tx.retry(id, now)
		return err
	})
	return ids, err
}

// RetryAllDead is Retry for every dead-lettered row, oldest first. It
// returns the ids queued.
func (s *Store) RetryAllDead(ctx context.Context, now time.Time) ([]int64, error) {
	var ids []int64
	err := s.Update(ctx, func(tx *Tx) error {
		dead, err := tx.deliveries(`SELECT ` + deliveryColumns + ` FROM outbox WHERE status = 'dead' ORDER BY id`)
		if err != nil {
			return fmt.Errorf("list dead deliveries: %w", err)
		}
		requeued := map[int64]bool{}
		for _, d := range dead {
			if requeued[d.ID] { // a resolve put back in line with its trigger
				continue
			}
			q, err := tx.retry(d.ID, now)
			if err != nil {
				return err
			}
			for _, id := range q {
				requeued[id] = true
			}
			ids = append(ids, q...)
		}
		return nil
	})
	return ids, err
}

func (t *Tx) retry(id int64, now time.Time) ([]int64, error) {
	d, err := t.Delivery(id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	if d.Status != Dead {
		return nil, fmt.Errorf("delivery %d is %s, not dead", id, d.Status)
	}
	if err := t.requeue(id, now); err != nil {
		return nil, err
	}
	ids := []int64{id}
	if d.Purpose == PurposeResolve {
		return ids, nil
	}
	inc, err := t.Incident(d.Notification.IncidentID)
	if err != nil || inc == nil || inc.Status != IncidentResolved {
		return ids, err
	}
	// A resolve already queued, or dead-lettered, behind this trigger on the
	// same sink closes the page: put that one back in line rather than add
	// a second resolve.
	rows, err := t.Deliveries(inc.ID)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Sink != d.Sink || r.Purpose != PurposeResolve || r.ID < id {
			continue
		}
		switch r.Status {
		case Pending, Sending:
			return ids, nil
		case Dead:
			if err := t.requeue(r.ID, now); err != nil {
				return nil, err
			}
			return append(ids, r.ID), nil
		}
	}
	n := d.Notification
	n.Kind, n.Reminder, n.Ref = alert.Resolve, false, ""
	n.Time, n.Count = inc.ResolvedAt, inc.Count
	r := &Delivery{Sink: d.Sink, Purpose: PurposeResolve, Notification: n, CreatedAt: now}
	if _, err := t.Enqueue(r); err != nil {
		return nil, err
	}
	return append(ids, r.ID), nil
}

// requeue puts row id back in its sink's queue, due at now.
func (t *Tx) requeue(id int64, now time.Time) error {
	if _, err := t.exec(`UPDATE outbox SET status = 'pending', next_attempt_at = ?, updated_at = ? WHERE id = ?`,
		nanos(now), nanos(now), id); err != nil {
		return fmt.Errorf("retry delivery %d: %w", id, err)
	}
	return nil
}

// Drop cancels the pending, sending or dead row id for good; its last error
// records that an operator dropped it.
func (s *Store) Drop(ctx context.Context, id int64, now time.Time) error {
	return s.Update(ctx, func(tx *Tx) error {
		d, err := tx.Delivery(id)
		if err != nil {
			return err
		}
		if d == nil {
			return fmt.Errorf("delivery %d: %w", id, ErrNotFound)
		}
		if d.Status == Sent || d.Status == Cancelled {
			return fmt.Errorf("delivery %d is already %s", id, d.Status)
		}
		reason := "dropped by operator"
		if d.LastError != "" {
			reason += "; last error: " + d.LastError
		}
		_, err = tx.exec(`UPDATE outbox SET status = 'cancelled', last_error = ?, updated_at = ? WHERE id = ?`,
			reason, nanos(now), id)
		if err != nil {
			return fmt.Errorf("drop delivery %d: %w", id, err)
		}
		return nil
	})
}

// Processed is one alert the ledger recorded as handled: its SourceID (for
// an event, the event's identity) and when.
type Processed struct {
	SourceID string
	At       time.Time
}

// ProcessedSince returns the alerts of key recorded after since, oldest
// first: e.g. the exits of a program a restarted crashpager still counts
// toward a restart spree.
func (s *Store) ProcessedSince(ctx context.Context, key string, since time.Time) ([]Processed, error) {
	var out []Processed
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		out, err = queryAll(tx, func(sc scanner) (Processed, error) {
			var p Processed
			var at int64
			err := sc.Scan(&p.SourceID, &at)
			p.At = fromNanos(at)
			return p, err
		}, `SELECT source_id, at FROM processed WHERE key = ? AND at > ? ORDER BY at`, key, nanos(since))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("processed %s: %w", key, err)
	}
	return out, nil
}

// DeliveryHealth tells whether alerts can be stored and delivered now: it
// fails when the store cannot take a write (read-only, corrupt, locked past
// ctx), or when the oldest undelivered row has waited longer than stuck
// and no row at all was delivered in that time (every sink failing). A
// Watchdog or dead-man ping must not say "alive" then.
func (s *Store) DeliveryHealth(ctx context.Context, now time.Time, stuck time.Duration) error {
	return s.Update(ctx, func(tx *Tx) error {
		// A write that changes nothing, but takes the write lock and makes
		// SQLite touch the file: it fails on a read-only or corrupt store.
		if _, err := tx.exec(`UPDATE sender_leases SET expires_at = expires_at WHERE sink = ''`); err != nil {
			return fmt.Errorf("the state store cannot be written: %w", err)
		}
		var oldest, lastSent sql.NullInt64
		if err := tx.queryRow(`SELECT MIN(created_at) FROM outbox WHERE status IN ('pending', 'sending')`).Scan(&oldest); err != nil {
			return fmt.Errorf("read the outbox: %w", err)
		}
		if !oldest.Valid || now.Sub(fromNanos(oldest.Int64)) <= stuck {
			return nil
		}
		if err := tx.queryRow(`SELECT MAX(sent_at) FROM outbox WHERE status = 'sent'`).Scan(&lastSent); err != nil {
			return fmt.Errorf("read the outbox: %w", err)
		}
		if lastSent.Valid && now.Sub(fromNanos(lastSent.Int64)) <= stuck {
			return nil
		}
		return fmt.Errorf("nothing delivered for more than %s: the oldest undelivered alert was queued at %s", stuck,
			fromNanos(oldest.Int64).UTC().Format(time.RFC3339))
	})
}
