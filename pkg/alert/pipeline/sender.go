package pipeline

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/notify"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/state"
)

// errorPause is how long a sender waits after the store failed.
const errorPause = time.Second

// sender drains one sink's queue while it holds the sink's lease.
type sender struct {
	p        *Pipeline
	name     string
	typ      string
	n        alert.Notifier
	timeout  time.Duration // per attempt
	interval time.Duration // between attempts (rate limit); 0: none
	refresh  time.Duration // re-send interval of firing triggers; 0: none
	minAfter time.Duration // least wait when the sink asked for one
	wake     chan struct{}
	log      zerolog.Logger

	// Owned by the run goroutine.
	holding    bool
	leaseUntil time.Time
	next       time.Time // rate limit: no attempt before
}

func newSender(p *Pipeline, sk *config.Sink, n alert.Notifier) *sender {
	typ, _ := notify.Lookup(sk.Type) // the defaults of the sink's type
	s := &sender{
		p: p, name: sk.Name, typ: sk.Type, n: n,
		timeout:  sk.AttemptTimeout(),
		minAfter: typ.MinRetryAfter, // e.g. PagerDuty documents at least 30 s after a 429
		wake:     make(chan struct{}, 1),
		log:      p.log.With().Str("sink", sk.Name).Logger(),
	}
	if r := sk.RateLimit(typ.Rate); r > 0 {
		s.interval = time.Duration(float64(time.Second) / r)
	}
	if r, ok := n.(interface{ RefreshInterval() time.Duration }); ok {
		s.refresh = r.RefreshInterval()
	}
	return s
}

func (s *sender) run(ctx context.Context) {
	defer s.release()
	for ctx.Err() == nil {
		if until, idle := s.step(ctx); idle && !sleepUntil(s.p.clock, until, ctx.Done(), s.wake) {
			return
		}
	}
}

// step does one unit of work. When there is nothing to do now it reports
// idle and until when to sleep (a Submit in this process wakes it sooner).
func (s *sender) step(ctx context.Context) (until time.Time, idle bool) {
	now := s.p.clock.Now()
	poll := now.Add(s.p.opts.PollInterval)
	ok, err := s.lease(ctx, now)
	if err != nil {
		s.logStoreError(ctx, err, "lease")
		return now.Add(errorPause), true
	}
	if !ok {
		return poll, true
	}
	var next *state.Delivery
	var due time.Time
	err = s.p.store.View(ctx, func(tx *state.Tx) error {
		var err error
		next, due, err = tx.Next(s.name, now)
		return err
	})
	switch {
	case err != nil:
		s.logStoreError(ctx, err, "read queue")
		return now.Add(errorPause), true
	case next == nil && !due.IsZero():
		return earliest(due, poll), true
	case next == nil:
		return poll, true
	case s.next.After(now):
		return earliest(s.next, poll), true
	}
	s.deliver(ctx, next, now)
	return time.Time{}, false
}

// lease makes sure this pipeline holds the sink's lease, renewing it when
// half its life is gone.
func (s *sender) lease(ctx context.Context, now time.Time) (bool, error) {
	ttl := s.p.opts.LeaseTTL
	if s.holding && s.leaseUntil.Sub(now) > ttl/2 {
		return true, nil
	}
	var ok bool
	// Check before taking the write lock: a process that does not hold the
	// lease polls often and must not get in the way of Submits.
	err := s.p.store.View(ctx, func(tx *state.Tx) error {
		var err error
		ok, err = tx.LeaseAvailable(s.name, s.p.owner, now)
		return err
	})
	if err == nil && ok {
		err = s.p.store.Update(ctx, func(tx *state.Tx) error {
			var err error
			ok, err = tx.AcquireLease(s.name, s.p.owner, s.p.pid, now, now.Add(ttl))
			return err
		})
	}
	if err != nil {
		s.holding = false
		return false, err
	}
	if ok != s.holding {
		if ok {
			s.log.Info().Msg("sender took the sink's lease: delivering for this host")
		} else {
			s.log.Info().Msg("sender lost the sink's lease")
		}
	}
	s.holding = ok
	if ok {
		s.leaseUntil = now.Add(ttl)
	}
	return ok, nil
}

// release gives the lease up so another process takes over at once.
func (s *sender) release() {
	if !s.holding {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.p.store.Update(ctx, func(tx *state.Tx) error { return tx.ReleaseLease(s.name, s.p.owner) })
	if err != nil {
		s.log.Warn().Err(err).Msg("release sink lease")
	}
	s.holding = false
}

// deliver makes one attempt at d and records the outcome.
func (s *sender) deliver(ctx context.Context, d *state.Delivery, now time.Time) {
	until := now.Add(s.timeout + s.p.opts.LeaseTTL)
	var claimed bool
	var ref string
	err := s.p.store.Update(ctx, func(tx *state.Tx) error {
		var err error
		if claimed, err = tx.Claim(s.name, d.ID, s.p.owner, now, until); err != nil || !claimed {
			return err
		}
		ref, err = tx.SentRef(d.Notification.IncidentID, s.name)
		return err
	})
	if err != nil {
		s.logStoreError(ctx, err, "claim")
		s.next = later(s.next, now.Add(errorPause)) // a broken store must not make the loop spin
		return
	}
	if !claimed { // the lease was lost, or an operator dropped the row
		s.holding = false
		return
	}
	s.leaseUntil = until
	attempt := d.Attempts + 1
	ev := s.log.With().Int64("delivery_id", d.ID).Str("purpose", string(d.Purpose)).Str("key", d.Notification.Key).
		Str("incident_id", d.Notification.IncidentID).Int("attempt", attempt).Logger()
	if d.Status == state.Sending {
		ev.Info().Msg("resuming a delivery a stopped sender left in flight")
	}
	n := d.Notification
	n.Ref = ref
	actx, cancel := context.WithTimeout(ctx, s.timeout)
	started := time.Now()
	s.next = later(s.next, s.p.clock.Now()).Add(s.interval) // attempts, not successes, are rate limited
	rcpt, nerr := s.n.Notify(actx, &n)
	cancel()
	done := s.p.clock.Now()

	// Record the outcome even while shutting down. When that fails the row
	// stays "sending", at the head of the queue, and the next step would
	// resume it at once: the sender waits until notBefore instead (the
	// backoff the failure asked for, at least errorPause), so a broken store
	// neither spins the loop nor retries a sink sooner than it allowed.
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer bcancel()
	record := func(notBefore time.Time, fn func(tx *state.Tx) error) {
		if err := s.p.store.Update(bctx, fn); err != nil {
			s.logStoreError(bctx, err, "record delivery")
			s.next = later(s.next, later(notBefore, done.Add(errorPause)))
		}
	}
	if nerr == nil {
		record(done, func(tx *state.Tx) error { return tx.MarkSent(d.ID, rcpt.Ref, done) })
		ev.Debug().Dur("latency", time.Since(started)).Dur("queued_for", done.Sub(d.CreatedAt)).Msg("notification delivered")
		return
	}
	msg := s.p.redact(nerr.Error())
	retryable, after := alert.IsRetryable(nerr)
	if ctx.Err() != nil && retryable {
		// Our own shutdown cut the attempt short; it says nothing about the
		// sink (and a sink's redacted error no longer wraps
		// context.Canceled). The next sender resumes the row at once.
		record(done, func(tx *state.Tx) error { return tx.MarkRetry(d.ID, done, "interrupted by shutdown", done) })
		return
	}
	if !retryable {
		record(done, func(tx *state.Tx) error { return tx.MarkDead(d.ID, msg, done) })
		ev.Error().Str("error", msg).Msg("notification failed permanently: dead-lettered (opscli retry or drop)")
		return
	}
	delay := backoff(attempt, after, s.minAfter, s.p.opts.BackoffBase, s.p.opts.BackoffMax, rand.Int64N)
	record(done.Add(delay), func(tx *state.Tx) error { return tx.MarkRetry(d.ID, done.Add(delay), msg, done) })
	ev.Warn().Str("error", msg).Dur("retry_in", delay).Msg("notification failed: will retry")
}

func (s *sender) logStoreError(ctx context.Context, err error, step string) {
	if ctx.Err() != nil {
		return
	}
	s.log.Warn().Str("error", s.p.redact(err.Error())).Str("step", step).Msg("sender: state store failed")
}

// backoff returns the wait before attempt+1 after a retryable failure:
// exponential from base, capped at maxDelay, with jitter over its upper
// half, and never less than retryAfter — itself raised to minAfter when the
// sink asked to wait at all.
func backoff(attempt int, retryAfter, minAfter, base, maxDelay time.Duration, randN func(int64) int64) time.Duration {
	d := maxDelay
	if attempt < 32 {
		if e := base << (attempt - 1); e > 0 && e < maxDelay {
			d = e
		}
	}
	if half := int64(d / 2); half > 0 {
		d = time.Duration(half + randN(half+1))
	}
	if retryAfter > 0 {
		return max(d, retryAfter, minAfter)
	}
	return d
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
