package pipeline

import (
	"context"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/state"
)

// pruneEvery is how often the sweeper deletes old records.
const pruneEvery = time.Hour

// sweepLoop queues what time alone calls for (repeats at the end of a
// window, reminders, refreshes) every SweepInterval, and prunes old records
// every hour.
func (p *Pipeline) sweepLoop(ctx context.Context) {
	var lastPrune time.Time
	for {
		if err := p.sweep(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn().Str("error", p.redact(err.Error())).Msg("sweep failed")
		}
		if now := p.clock.Now(); now.Sub(lastPrune) >= pruneEvery {
			lastPrune = now
			n, err := p.store.Prune(ctx, now, state.DefaultRetention)
			if err != nil && ctx.Err() == nil {
				p.log.Warn().Err(err).Msg("prune failed")
			} else if err == nil {
				p.log.Debug().Interface("pruned", n).Msg("pruned old records")
			}
		}
		if !sleepUntil(p.clock, p.clock.Now().Add(p.opts.SweepInterval), ctx.Done(), nil) {
			return
		}
	}
}

// sweep queues repeats, reminders and refreshes that are due. It reads
// first and only takes the write lock when something is due; inside the
// write transaction it decides again, so several processes sweeping at once
// queue each notification once.
func (p *Pipeline) sweep(ctx context.Context) error {
	now := p.clock.Now()
	var due bool
	err := p.store.View(ctx, func(tx *state.Tx) error {
		var err error
		due, err = p.sweepTx(tx, now, true)
		return err
	})
	if err != nil || !due {
		return err
	}
	var queued bool
	err = p.store.Update(ctx, func(tx *state.Tx) error {
		var err error
		queued, err = p.sweepTx(tx, now, false)
		return err
	})
	if err == nil && queued {
		p.wake()
	}
	return err
}

// sweepTx finds what is due; unless dryRun it queues it. It reports whether
// anything was due (dryRun) or queued.
func (p *Pipeline) sweepTx(tx *state.Tx, now time.Time, dryRun bool) (bool, error) {
	found := false
	window := p.cfg.Dedup.Window.Std()
	keys, err := tx.KeysWithUnreported(now.Add(-window))
	if err != nil {
		return false, err
	}
	for i := range keys {
		ks := &keys[i]
		inc, err := tx.Incident(ks.LastIncidentID)
		if err != nil {
			return false, err
		}
		var a *alert.Alert
		if inc != nil {
			a = &inc.Alert
		}
		if now.Sub(ks.LastTriggerAt) < p.hold(ks, a) {
			continue
		}
		if inc == nil { // pruned: nothing left to report against
			if dryRun {
				return true, nil
			}
			ks.Unreported = 0
			if err := tx.PutKey(*ks, now); err != nil {
				return false, err
			}
			continue
		}
		if _, held := p.suppressed(&inc.Alert, now); held {
			continue
		}
		found = true
		if dryRun {
			return true, nil
		}
		open := inc.Status == state.IncidentOpen
		purpose := state.PurposeRepeat
		if !inc.Notified {
			purpose = state.PurposeTrigger
		}
		if _, err := p.notify(tx, ks, inc, purpose, now, !open); err != nil {
			return false, err
		}
		if err := tx.PutIncident(inc); err != nil {
			return false, err
		}
		if err := tx.PutKey(*ks, now); err != nil {
			return false, err
		}
	}
	if r := p.cfg.Dedup.Reminder.Std(); r > 0 {
		incs, err := tx.IncidentsToRemind(now.Add(-r))
		if err != nil {
			return false, err
		}
		for _, inc := range incs {
			if _, held := p.suppressed(&inc.Alert, now); held {
				continue
			}
			found = true
			if dryRun {
				return true, nil
			}
			ks, err := tx.Key(inc.Key)
			if err != nil {
				return false, err
			}
			if _, err := p.notify(tx, &ks, inc, state.PurposeReminder, now, false); err != nil {
				return false, err
			}
			if err := tx.PutIncident(inc); err != nil {
				return false, err
			}
		}
	}
	for _, s := range p.senders {
		if s.refresh <= 0 {
			continue
		}
		rows, err := tx.RefreshDue(s.name, now.Add(-s.refresh))
		if err != nil {
			return false, err
		}
		for _, d := range rows {
			found = true
			if dryRun {
				return true, nil
			}
			n := d.Notification
			n.Ref = ""
			if _, err := tx.Enqueue(&state.Delivery{Sink: s.name, Purpose: state.PurposeRefresh, Notification: n, CreatedAt: now}); err != nil {
				return false, err
			}
		}
	}
	return found, nil
}
