package state

import (
	"context"
	"fmt"
	"time"
)

// Retention says how long finished records are kept.
type Retention struct {
	Processed time.Duration // handled source ids (idempotency): longer than any redelivery can lag
	Finished  time.Duration // sent and cancelled outbox rows
	Resolved  time.Duration // resolved incidents with no row queued or dead, and idle keys
	Restarts  time.Duration // restart timestamps (longer than any budget window)
}

// DefaultRetention is what the pipeline prunes with.
var DefaultRetention = Retention{
	Processed: 72 * time.Hour,
	Finished:  7 * 24 * time.Hour,
	Resolved:  30 * 24 * time.Hour,
	Restarts:  7 * 24 * time.Hour,
}

// Pruned counts what Prune deleted.
type Pruned struct {
	Processed, Deliveries, Incidents, Keys, Restarts int64
}

// Prune deletes records older than r allows, measured back from now. Dead
// and queued outbox rows, and the incidents they belong to, are never
// pruned: an operator retries or drops them.
func (s *Store) Prune(ctx context.Context, now time.Time, r Retention) (Pruned, error) {
	var p Pruned
	err := s.Update(ctx, func(tx *Tx) error {
		steps := []struct {
			n     *int64
			query string
			arg   time.Duration
		}{
			{&p.Processed, `DELETE FROM processed WHERE at < ?`, r.Processed},
			{&p.Deliveries, `DELETE FROM outbox WHERE status IN ('sent', 'cancelled') AND updated_at < ?`, r.Finished},
			{&p.Incidents, `DELETE FROM incidents WHERE status = 'resolved' AND resolved_at < ?
				AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = incidents.id
					AND o.status IN ('pending', 'sending', 'dead'))`, r.Resolved},
			{&p.Keys, `DELETE FROM alert_keys WHERE unreported = 0 AND updated_at < ?
				AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.key = alert_keys.key AND i.status = 'open')`, r.Resolved},
			{&p.Restarts, `DELETE FROM restarts WHERE at < ?`, r.Restarts},
		}
		for _, st := range steps {
			if st.arg <= 0 {
				continue
			}
			res, err := tx.exec(st.query, nanos(now.Add(-st.arg)))
			if err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			if *st.n, err = res.RowsAffected(); err != nil {
				return fmt.Errorf("prune: %w", err)
			}
		}
		return nil
	})
	return p, err
}
