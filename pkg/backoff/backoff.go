// Package backoff is superguard's one retry wait: it starts at a minimum,
// doubles on every retry up to a maximum, and optionally adds random
// jitter so that many retrying clients do not move in step.
//
//	b := backoff.New(50*time.Millisecond, 2*time.Second, 0)
//	for !try() {
//		time.Sleep(b.Next()) // 50ms, 100ms, 200ms, ... 2s, 2s
//	}
//	b.Reset() // after a success
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is a capped doubling wait. It is not safe for concurrent use.
type Backoff struct {
	min, max time.Duration
	jitter   float64
	d        time.Duration
}

// New returns a Backoff whose first wait is min, doubling up to max. Each
// wait gets up to jitter times itself added at random (0 for none, e.g.
// 0.2 for up to 20% more).
func New(min, max time.Duration, jitter float64) *Backoff {
	return &Backoff{min: min, max: max, jitter: jitter}
}

// Next returns the next wait: min after New or Reset, then twice the
// previous one, at most max, plus the jitter.
func (b *Backoff) Next() time.Duration {
	if b.d == 0 {
		b.d = b.min
	} else {
		b.d = min(2*b.d, b.max)
	}
	if b.jitter <= 0 {
		return b.d
	}
	return b.d + time.Duration(rand.Float64()*b.jitter*float64(b.d))
}

// Reset makes the next wait min again.
func (b *Backoff) Reset() { b.d = 0 }

// Sleep waits d or until ctx ends, whichever comes first, and reports
// whether d passed (false: ctx ended). A d of zero or less does not wait.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
