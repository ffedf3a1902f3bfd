package state

import (
	"context"
	"encoding/json"
	"fmt"
)

// ProcessCounters are the exporter's persisted numbers for one process
// ("group:name"): event-driven counters and the marks that keep a
// re-sent event or a reconciliation from counting twice.
type ProcessCounters struct {
	Restarts int64            `json:"restarts"`
	Exits    map[string]int64 `json:"exits,omitempty"` // by "expected", "unexpected", "unknown" (reconciled)
	Fatals   int64            `json:"fatals"`
	Backoffs int64            `json:"backoffs"`
	// RunPIDs and ExitPIDs are the latest pids counted RUNNING and
	// EXITED (at most MaxPIDs each, newest last).
	RunPIDs    []int  `json:"run_pids,omitempty"`
	ExitPIDs   []int  `json:"exit_pids,omitempty"`
	LastState  string `json:"last_state,omitempty"`  // the state last counted
	ExitStatus *int   `json:"exit_status,omitempty"` // the last exit status read from supervisord
}

// MaxPIDs bounds ProcessCounters' pid lists.
const MaxPIDs = 64

// SaveCounters writes c as process's counters, replacing what was there.
func (s *Store) SaveCounters(ctx context.Context, process string, c ProcessCounters) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`INSERT INTO process_counters (process, data) VALUES (?, ?)
			ON CONFLICT (process) DO UPDATE SET data = excluded.data`, process, string(b)); err != nil {
			return fmt.Errorf("counters of %s: %w", process, err)
		}
		return nil
	})
}

// Counters returns every process's counters.
func (s *Store) Counters(ctx context.Context) (map[string]ProcessCounters, error) {
	out := map[string]ProcessCounters{}
	err := s.View(ctx, func(tx *Tx) error {
		rows, err := tx.query(`SELECT process, data FROM process_counters`)
		if err != nil {
			return fmt.Errorf("list counters: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p, data string
			if err := rows.Scan(&p, &data); err != nil {
				return err
			}
			var c ProcessCounters
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				return fmt.Errorf("counters of %s: %w", p, err)
			}
			out[p] = c
		}
		return rows.Err()
	})
	return out, err
}
