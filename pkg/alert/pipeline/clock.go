package pipeline

import "time"

// Clock is the pipeline's source of time. Every decision (dedup windows,
// reminders, quiet hours, backoff, rate limits, leases) reads Now, and every
// wait goes through NewTimer, so a test can drive the pipeline with a fake
// clock (pipelinetest.Clock).
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once d has passed, and a
	// function that cancels the timer (reporting whether it was pending).
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (SystemClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// sleepUntil waits on clock until t, or until done or wake fires. It
// reports false when done fired. The wait is measured when the timer is
// set, so time that passed since t was computed is not waited twice.
func sleepUntil(clock Clock, t time.Time, done <-chan struct{}, wake <-chan struct{}) bool {
	d := t.Sub(clock.Now())
	if d <= 0 {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	c, stop := clock.NewTimer(d)
	defer stop()
	select {
	case <-done:
		return false
	case <-wake:
	case <-c:
	}
	return true
}
