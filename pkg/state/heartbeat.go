package state

import (
	"context"
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
	Dropped   int64     // events supervisord dropped before reaching it (poolserial gaps), over its life
}

// Beat records that listener (process pid) handled the TICK of tick, at now.
func (s *Store) Beat(ctx context.Context, listener string, tick time.Time, pid int, now time.Time) error {
	return s.BeatDropped(ctx, listener, tick, pid, now, 0)
}

// BeatDropped is Beat that also adds dropped to the events the listener
// has seen dropped (poolserial gaps) since its last beat.
func (s *Store) BeatDropped(ctx context.Context, listener string, tick time.Time, pid int, now time.Time, dropped int64) error {
	return s.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`INSERT INTO heartbeats (listener, tick, pid, updated_at, dropped) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (listener) DO UPDATE SET tick = excluded.tick, pid = excluded.pid, updated_at = excluded.updated_at,
				dropped = heartbeats.dropped + excluded.dropped`,
			listener, nanos(tick), pid, nanos(now), dropped)
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
		var err error
		if hb, found, err = queryOne(tx, scanHeartbeat, `SELECT `+heartbeatColumns+` FROM heartbeats WHERE listener = ?`, listener); err != nil {
			return fmt.Errorf("heartbeat of %s: %w", listener, err)
		}
		return nil
	})
	if !found {
		hb = Heartbeat{Listener: listener}
	}
	return hb, found, err
}

// Heartbeats returns every listener's heartbeat, by listener name.
func (s *Store) Heartbeats(ctx context.Context) ([]Heartbeat, error) {
	var out []Heartbeat
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		if out, err = queryAll(tx, scanHeartbeat, `SELECT `+heartbeatColumns+` FROM heartbeats ORDER BY listener`); err != nil {
			return fmt.Errorf("list heartbeats: %w", err)
		}
		return nil
	})
	return out, err
}

const heartbeatColumns = `listener, tick, pid, updated_at, dropped`

func scanHeartbeat(sc scanner) (Heartbeat, error) {
	var hb Heartbeat
	var tick, updated int64
	err := sc.Scan(&hb.Listener, &tick, &hb.PID, &updated, &hb.Dropped)
	hb.Tick, hb.UpdatedAt = fromNanos(tick), fromNanos(updated)
	return hb, err
}
