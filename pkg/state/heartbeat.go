package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Heartbeat is the last sign of life of one listener: the TICK it last
// handled. Listeners watch each other's heartbeats to notice one that died
// or got stuck.
type Heartbeat struct {
	Listener  string
	Tick      time.Time // the `when` of the last TICK event handled
	PID       int
	UpdatedAt time.Time // wall-clock time of the write
}

// Beat records that listener (process pid) handled the TICK of tick, at now.
func (s *Store) Beat(ctx context.Context, listener string, tick time.Time, pid int, now time.Time) error {
	return s.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`INSERT INTO heartbeats (listener, tick, pid, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (listener) DO UPDATE SET tick = excluded.tick, pid = excluded.pid, updated_at = excluded.updated_at`,
			listener, nanos(tick), pid, nanos(now))
		if err != nil {
			return fmt.Errorf("heartbeat of %s: %w", listener, err)
		}
		return nil
	})
}

// Heartbeat returns listener's heartbeat, or false when it never beat.
func (s *Store) Heartbeat(ctx context.Context, listener string) (Heartbeat, bool, error) {
	hb := Heartbeat{Listener: listener}
	var found bool
	err := s.View(ctx, func(tx *Tx) error {
		var tick, updated int64
		err := tx.queryRow(`SELECT tick, pid, updated_at FROM heartbeats WHERE listener = ?`, listener).Scan(&tick, &hb.PID, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("heartbeat of %s: %w", listener, err)
		}
		hb.Tick, hb.UpdatedAt, found = fromNanos(tick), fromNanos(updated), true
		return nil
	})
	return hb, found, err
}

// Heartbeats returns every listener's heartbeat, by listener name.
func (s *Store) Heartbeats(ctx context.Context) ([]Heartbeat, error) {
	var out []Heartbeat
	err := s.View(ctx, func(tx *Tx) error {
		rows, err := tx.query(`SELECT listener, tick, pid, updated_at FROM heartbeats ORDER BY listener`)
		if err != nil {
			return fmt.Errorf("list heartbeats: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var hb Heartbeat
			var tick, updated int64
			if err := rows.Scan(&hb.Listener, &tick, &hb.PID, &updated); err != nil {
				return fmt.Errorf("list heartbeats: %w", err)
			}
			hb.Tick, hb.UpdatedAt = fromNanos(tick), fromNanos(updated)
			out = append(out, hb)
		}
		return rows.Err()
	})
	return out, err
}
