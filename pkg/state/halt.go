package state

import (
	"context"
	"fmt"
	"time"
)

// Halt is the kill-switch latch haltguard keeps: once set it stays set,
// across restarts of every listener, until an operator clears it.
type Halt struct {
	Latched bool
	Reason  string    // why trading was halted
	Process string    // the process whose failure tripped it ("" for a manual halt)
	TraceID string    // the incident's trace id
	Actor   string    // who set it: a listener name or an operator
	Since   time.Time // when it was set
}

// HaltEvent is one entry of the append-only halt history.
type HaltEvent struct {
	ID      int64
	At      time.Time
	Action  string // "set" or "clear"
	Reason  string
	Process string
	TraceID string
	Actor   string
}

// Halt returns the latch.
func (s *Store) Halt(ctx context.Context) (Halt, error) {
	var h Halt
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		h, err = tx.halt()
		return err
	})
	return h, err
}

func (t *Tx) halt() (Halt, error) {
	var h Halt
	var since int64
	err := t.queryRow(`SELECT latched, reason, process, trace_id, actor, since FROM halt_latch WHERE id = 1`).
		Scan(&h.Latched, &h.Reason, &h.Process, &h.TraceID, &h.Actor, &since)
	if err != nil {
		return h, fmt.Errorf("read halt latch: %w", err)
	}
	h.Since = fromNanos(since)
	return h, nil
}

// SetHalt latches the halt with h's fields (Latched is implied). When the
// latch is already set it keeps the first cause and reports set=false; cur
// is the latch as it stands afterwards. A new latch is appended to the
// history.
func (s *Store) SetHalt(ctx context.Context, h Halt) (set bool, cur Halt, err error) {
	err = s.Update(ctx, func(tx *Tx) error {
		cur, err = tx.halt()
		if err != nil {
			return err
		}
		if cur.Latched {
			return nil
		}
		h.Latched = true
		if _, err := tx.exec(`UPDATE halt_latch SET latched = 1, reason = ?, process = ?, trace_id = ?, actor = ?, since = ?
			WHERE id = 1`, h.Reason, h.Process, h.TraceID, h.Actor, nanos(h.Since)); err != nil {
			return fmt.Errorf("set halt latch: %w", err)
		}
		if err := tx.appendHalt("set", h.Since, h.Reason, h.Process, h.TraceID, h.Actor); err != nil {
			return err
		}
		set, cur = true, h
		return nil
	})
	return set, cur, err
}

// ClearHalt releases the latch, recording who cleared it and why in the
// history. It reports false (and records nothing) when it was not latched.
func (s *Store) ClearHalt(ctx context.Context, actor, reason string, at time.Time) (bool, error) {
	var cleared bool
	err := s.Update(ctx, func(tx *Tx) error {
		cur, err := tx.halt()
		if err != nil || !cur.Latched {
			return err
		}
		if _, err := tx.exec(`UPDATE halt_latch SET latched = 0, reason = '', process = '', trace_id = '', actor = '', since = 0
			WHERE id = 1`); err != nil {
			return fmt.Errorf("clear halt latch: %w", err)
		}
		cleared = true
		return tx.appendHalt("clear", at, reason, cur.Process, cur.TraceID, actor)
	})
	return cleared, err
}

func (t *Tx) appendHalt(action string, at time.Time, reason, process, traceID, actor string) error {
	_, err := t.exec(`INSERT INTO halt_history (at, action, reason, process, trace_id, actor) VALUES (?, ?, ?, ?, ?, ?)`,
		nanos(at), action, reason, process, traceID, actor)
	if err != nil {
		return fmt.Errorf("append halt history: %w", err)
	}
	return nil
}

// HaltHistory returns the latest limit history entries (0: all), newest
// first.
func (s *Store) HaltHistory(ctx context.Context, limit int) ([]HaltEvent, error) {
	if limit <= 0 {
		limit = -1
	}
	var out []HaltEvent
	err := s.View(ctx, func(tx *Tx) error {
		rows, err := tx.query(`SELECT id, at, action, reason, process, trace_id, actor FROM halt_history
			ORDER BY id DESC LIMIT ?`, limit)
		if err != nil {
			return fmt.Errorf("read halt history: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e HaltEvent
			var at int64
			if err := rows.Scan(&e.ID, &at, &e.Action, &e.Reason, &e.Process, &e.TraceID, &e.Actor); err != nil {
				return fmt.Errorf("read halt history: %w", err)
			}
			e.At = fromNanos(at)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}
