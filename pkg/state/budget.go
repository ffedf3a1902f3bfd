package state

import (
	"context"
	"fmt"
	"time"
)

// RecordRestart records that process was restarted at at and returns how
// many restarts of it (this one included) fall in the window ending at at.
// Restarts older than the window are pruned in the same transaction.
func (s *Store) RecordRestart(ctx context.Context, process string, at time.Time, window time.Duration) (int, error) {
	var n int
	err := s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`INSERT INTO restarts (process, at) VALUES (?, ?)`, process, nanos(at)); err != nil {
			return fmt.Errorf("record restart of %s: %w", process, err)
		}
		since := at.Add(-window)
		if _, err := tx.exec(`DELETE FROM restarts WHERE process = ? AND at <= ?`, process, nanos(since)); err != nil {
			return fmt.Errorf("prune restarts of %s: %w", process, err)
		}
		var err error
		n, err = tx.restartsSince(process, since)
		return err
	})
	return n, err
}

// RestartsSince counts the restarts of process recorded after since.
func (s *Store) RestartsSince(ctx context.Context, process string, since time.Time) (int, error) {
	var n int
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.restartsSince(process, since)
		return err
	})
	return n, err
}

func (t *Tx) restartsSince(process string, since time.Time) (int, error) {
	var n int
	if err := t.queryRow(`SELECT count(*) FROM restarts WHERE process = ? AND at > ?`, process, nanos(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count restarts of %s: %w", process, err)
	}
	return n, nil
}

// Restarts returns the recorded restart times of process after since,
// oldest first.
func (s *Store) Restarts(ctx context.Context, process string, since time.Time) ([]time.Time, error) {
	var out []time.Time
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		if out, err = queryAll(tx, scanTime, `SELECT at FROM restarts WHERE process = ? AND at > ? ORDER BY at`, process, nanos(since)); err != nil {
			return fmt.Errorf("list restarts of %s: %w", process, err)
		}
		return nil
	})
	return out, err
}

// PruneRestarts deletes every restart recorded at or before before, for all
// processes, and returns how many it deleted.
func (s *Store) PruneRestarts(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		if n, err = tx.changes(`DELETE FROM restarts WHERE at <= ?`, nanos(before)); err != nil {
			return fmt.Errorf("prune restarts: %w", err)
		}
		return nil
	})
	return n, err
}

// ResetRestarts forgets every recorded restart of process (an operator
// resetting its restart budget) and returns how many it forgot.
func (s *Store) ResetRestarts(ctx context.Context, process string) (int64, error) {
	var n int64
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		if n, err = tx.changes(`DELETE FROM restarts WHERE process = ?`, process); err != nil {
			return fmt.Errorf("reset restarts of %s: %w", process, err)
		}
		return nil
	})
	return n, err
}

// RestartCount is how many restarts of one process were recorded.
type RestartCount struct {
	Process string
	Count   int
}

// RestartCounts returns, per process, the restarts recorded after since,
// by process name.
func (s *Store) RestartCounts(ctx context.Context, since time.Time) ([]RestartCount, error) {
	var out []RestartCount
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		out, err = queryAll(tx, func(sc scanner) (RestartCount, error) {
			var rc RestartCount
			err := sc.Scan(&rc.Process, &rc.Count)
			return rc, err
		}, `SELECT process, count(*) FROM restarts WHERE at > ? GROUP BY process ORDER BY process`, nanos(since))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count restarts: %w", err)
	}
	return out, nil
}
