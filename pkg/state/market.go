package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/superguard/superguard/pkg/session"
)

// SaveSession publishes tl as its exchange's session timeline.
func (s *Store) SaveSession(ctx context.Context, tl session.Timeline) error {
	b, err := json.Marshal(tl)
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`INSERT INTO market_sessions (exchange, data, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (exchange) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
			tl.Exchange, string(b), nanos(tl.Written)); err != nil {
			return fmt.Errorf("session of %s: %w", tl.Exchange, err)
		}
		return nil
	})
}

// Session returns the timeline published for exchange ("" : the only one
// published); nil when none is.
func (s *Store) Session(ctx context.Context, exchange string) (*session.Timeline, error) {
	var tl *session.Timeline
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		tl, err = tx.Session(exchange)
		return err
	})
	return tl, err
}

// Session is Store.Session inside a transaction.
func (tx *Tx) Session(exchange string) (*session.Timeline, error) {
	var data string
	var err error
	if exchange != "" {
		err = tx.queryRow(`SELECT data FROM market_sessions WHERE exchange = ?`, exchange).Scan(&data)
	} else {
		var n int
		err = tx.queryRow(`SELECT count(*), coalesce(max(data), '') FROM market_sessions`).Scan(&n, &data)
		if err == nil && n > 1 {
			return nil, errors.New("sessions of several exchanges are published: name the exchange")
		}
		if err == nil && n == 0 {
			err = sql.ErrNoRows
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	var tl session.Timeline
	if err := json.Unmarshal([]byte(data), &tl); err != nil {
		return nil, fmt.Errorf("session of %s: %w", exchange, err)
	}
	return &tl, nil
}

// PhaseStep is one action or check of a phase, as far as it got.
type PhaseStep struct {
	Name   string    `json:"name"`   // "start trading:*", "check positions", "run reconcile"
	Status string    `json:"status"` // started, ok, failed, refused, skipped
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// Phase is marketclock's record of one phase on one exchange day.
type Phase struct {
	Exchange string      `json:"exchange"`
	Day      string      `json:"day"` // YYYY-MM-DD, the exchange day
	Phase    string      `json:"phase"`
	Status   string      `json:"status"` // checking, running, then done, failed, refused or skipped
	Due      time.Time   `json:"due"`    // when it was scheduled
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished,omitzero"`
	Steps    []PhaseStep `json:"steps,omitempty"`
	Note     string      `json:"note,omitempty"`
	// Checks is the verdict of the phase's checks: checking, passed or
	// failed ("" : none, or not begun); Deadline and NextCheck bound and
	// pace them.
	Checks    string    `json:"checks,omitempty"`
	Deadline  time.Time `json:"deadline,omitzero"`
	NextCheck time.Time `json:"next_check,omitzero"`
}

// Step returns the step named name, if recorded.
func (p *Phase) Step(name string) (PhaseStep, bool) {
	for _, s := range p.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return PhaseStep{}, false
}

// SetStep records step s, replacing one of the same name.
func (p *Phase) SetStep(s PhaseStep) {
	for i := range p.Steps {
		if p.Steps[i].Name == s.Name {
			p.Steps[i] = s
			return
		}
	}
	p.Steps = append(p.Steps, s)
}

// SavePhase writes p, replacing the record of the same exchange, day and
// phase.
func (s *Store) SavePhase(ctx context.Context, p Phase) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`INSERT INTO market_phases (exchange, day, phase, status, data, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (exchange, day, phase) DO UPDATE SET status = excluded.status, data = excluded.data, updated_at = excluded.updated_at`,
			p.Exchange, p.Day, p.Phase, p.Status, string(b), nanos(time.Now())); err != nil {
			return fmt.Errorf("phase %s %s %s: %w", p.Exchange, p.Day, p.Phase, err)
		}
		return nil
	})
}

// Phases returns exchange's phase records of days from since (YYYY-MM-DD)
// on, by day and phase.
func (s *Store) Phases(ctx context.Context, exchange, since string) ([]Phase, error) {
	var out []Phase
	err := s.View(ctx, func(tx *Tx) error {
		rows, err := tx.query(`SELECT data FROM market_phases WHERE exchange = ? AND day >= ? ORDER BY day, phase`, exchange, since)
		if err != nil {
			return fmt.Errorf("list phases: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var data string
			if err := rows.Scan(&data); err != nil {
				return err
			}
			var p Phase
			if err := json.Unmarshal([]byte(data), &p); err != nil {
				return fmt.Errorf("phase record: %w", err)
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// PrunePhases deletes phase records of days before before (YYYY-MM-DD).
func (s *Store) PrunePhases(ctx context.Context, before string) error {
	return s.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`DELETE FROM market_phases WHERE day < ?`, before)
		return err
	})
}
