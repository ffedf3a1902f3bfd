package state

import (
	"context"
	"fmt"
	"time"
)

// Halt is the kill-switch latch haltguard keeps: once set it stays set,
// across restarts of every listener, until an operator clears it.
type Halt struct {
	Latched      bool
	Reason       string    // why trading was halted
	Process      string    // "group:name" of the process whose failure tripped it ("" for a manual halt)
	ProcessState string    // that process's state then ("FATAL", "EXITED")
	TraceID      string    // the incident's trace id
	Actor        string    // who set it: "haltguard", "remote:healthprobe", "cli:alice@host", ...
	Since        time.Time // when it was set
	Completed    time.Time // when the halt was carried out and paged; zero while in progress
}

// HaltEvent is one entry of the append-only halt history.
type HaltEvent struct {
	ID      int64
	At      time.Time
	Action  string // "set", "complete" or "clear"
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
	var since, completed int64
	err := t.queryRow(`SELECT latched, reason, process, process_state, trace_id, actor, since, completed
		FROM halt_latch WHERE id = 1`).
		Scan(&h.Latched, &h.Reason, &h.Process, &h.ProcessState, &h.TraceID, &h.Actor, &since, &completed)
	if err != nil {
		return h, fmt.Errorf("read halt latch: %w", err)
	}
	h.Since, h.Completed = fromNanos(since), fromNanos(completed)
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
		if _, err := tx.exec(`UPDATE halt_latch SET latched = 1, reason = ?, process = ?, process_state = ?,
			trace_id = ?, actor = ?, since = ?, completed = ? WHERE id = 1`,
			h.Reason, h.Process, h.ProcessState, h.TraceID, h.Actor, nanos(h.Since), nanos(h.Completed)); err != nil {
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

// CompleteHalt records that the latched halt with traceID was carried out
// at at, so a restarted haltguard does not carry it out (or page it) again.
// It reports false when no latch with that trace id is set.
func (s *Store) CompleteHalt(ctx context.Context, traceID string, at time.Time) (bool, error) {
	var done bool
	err := s.Update(ctx, func(tx *Tx) error {
		cur, err := tx.halt()
		if err != nil || !cur.Latched || cur.TraceID != traceID {
			return err
		}
		if _, err := tx.exec(`UPDATE halt_latch SET completed = ? WHERE id = 1`, nanos(at)); err != nil {
			return fmt.Errorf("complete halt: %w", err)
		}
		done = true
		return tx.appendHalt("complete", at, cur.Reason, cur.Process, cur.TraceID, cur.Actor)
	})
	return done, err
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
		if _, err := tx.exec(`UPDATE halt_latch SET latched = 0, reason = '', process = '', process_state = '',
			trace_id = '', actor = '', since = 0, completed = 0 WHERE id = 1`); err != nil {
			return fmt.Errorf("clear halt latch: %w", err)
		}
		cleared = true
		return tx.appendHalt("clear", at, reason, cur.Process, cur.TraceID, actor)
	})
	return cleared, err
}

// LastClear returns the latest "clear" entry of the history (who resumed
// trading, and when), or false when the latch was never cleared.
func (s *Store) LastClear(ctx context.Context) (HaltEvent, bool, error) {
	var e HaltEvent
	var found bool
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		if e, found, err = queryOne(tx, scanHaltEvent, `SELECT `+haltEventColumns+` FROM halt_history
			WHERE action = 'clear' ORDER BY id DESC LIMIT 1`); err != nil {
			return fmt.Errorf("read last halt clear: %w", err)
		}
		return nil
	})
	return e, found, err
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
		var err error
		if out, err = queryAll(tx, scanHaltEvent, `SELECT `+haltEventColumns+` FROM halt_history
			ORDER BY id DESC LIMIT ?`, limit); err != nil {
			return fmt.Errorf("read halt history: %w", err)
		}
		return nil
	})
	return out, err
}

const haltEventColumns = `id, at, action, reason, process, trace_id, actor`

func scanHaltEvent(sc scanner) (HaltEvent, error) {
	var e HaltEvent
	var at int64
	err := sc.Scan(&e.ID, &at, &e.Action, &e.Reason, &e.Process, &e.TraceID, &e.Actor)
	e.At = fromNanos(at)
	return e, err
}
