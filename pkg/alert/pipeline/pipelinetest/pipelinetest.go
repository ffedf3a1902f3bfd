// Package pipelinetest has fakes for testing code built on the alert
// pipeline: a Clock that only moves when told to, and a Notifier that
// records what it was asked to deliver and fails on demand.
package pipelinetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

// Clock is a fake pipeline.Clock. Time stands still until Advance or Set;
// timers fire when the time reaches them. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a channel firing once the fake time reaches Now()+d (at
// once when d <= 0), and a function cancelling it.
func (c *Clock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t.ch, func() bool { return false }
	}
	c.timers = append(c.timers, t)
	return t.ch, func() bool { return c.stop(t) }
}

func (c *Clock) stop(t *timer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Advance moves the time forward by d and fires the timers due.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the time to t (never backwards) and fires the timers due.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	kept := c.timers[:0]
	for _, x := range c.timers {
		if !x.at.After(c.now) {
			x.ch <- c.now
			continue
		}
		kept = append(kept, x)
	}
	c.timers = kept
}

// Waiters returns how many timers are pending: how many goroutines are
// asleep on this clock.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitForWaiters blocks until at least n timers are pending (the goroutines
// using the clock have finished reacting and gone back to sleep), failing
// the test after 10 s of real time.
func (c *Clock) WaitForWaiters(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Waiters() < n {
		if time.Now().After(deadline) {
			t.Fatalf("clock: %d waiters after 10s, want %d", c.Waiters(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Notifier is a fake alert.Notifier. By default every delivery succeeds
// and a trigger without a Ref gets the receipt "<name>/<call number>". Fail
// scripts errors for the next calls; Hook replaces the behaviour entirely.
type Notifier struct {
	Name string
	// Refresh, when > 0, makes the notifier ask for re-posts of firing
	// triggers (see RefreshInterval), as Alertmanager does.
	Refresh time.Duration

	mu     sync.Mutex
	calls  []alert.Notification
	script []error
	hook   func(ctx context.Context, n *alert.Notification) (alert.Receipt, error)
	signal chan struct{}
}

var _ alert.Notifier = (*Notifier)(nil)

// NewNotifier returns a Notifier named name.
func NewNotifier(name string) *Notifier {
	return &Notifier{Name: name, signal: make(chan struct{}, 1)}
}

// RefreshInterval returns Refresh.
func (f *Notifier) RefreshInterval() time.Duration { return f.Refresh }

// Notify records n and answers as scripted.
func (f *Notifier) Notify(ctx context.Context, n *alert.Notification) (alert.Receipt, error) {
	f.mu.Lock()
	f.calls = append(f.calls, *n)
	num := len(f.calls)
	var err error
	if len(f.script) > 0 {
		err, f.script = f.script[0], f.script[1:]
	}
	hook := f.hook
	f.mu.Unlock()
	defer func() {
		select {
		case f.signal <- struct{}{}:
		default:
		}
	}()
	if hook != nil {
		return hook(ctx, n)
	}
	if err != nil {
		return alert.Receipt{}, err
	}
	if n.Kind == alert.Trigger && n.Ref == "" {
		return alert.Receipt{Ref: fmt.Sprintf("%s/%d", f.Name, num)}, nil
	}
	return alert.Receipt{}, nil
}

// Fail makes the next len(errs) calls return errs in order (a nil entry
// succeeds).
func (f *Notifier) Fail(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, errs...)
}

// SetHook makes every later call run h instead of the default behaviour
// (nil restores it). Calls are still recorded.
func (f *Notifier) SetHook(h func(ctx context.Context, n *alert.Notification) (alert.Receipt, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

// Calls returns every notification received so far, in order.
func (f *Notifier) Calls() []alert.Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]alert.Notification(nil), f.calls...)
}

// WaitCalls blocks until at least n calls were received and returns them
// all, failing the test after 10 s.
func (f *Notifier) WaitCalls(t testing.TB, n int) []alert.Notification {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		if calls := f.Calls(); len(calls) >= n {
			return calls
		}
		select {
		case <-f.signal:
		case <-deadline.C:
			t.Fatalf("notifier %s: %d calls after 10s, want %d: %s", f.Name, len(f.Calls()), n, Describe(f.Calls()))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Describe renders notifications one per line, for test failure messages.
func Describe(ns []alert.Notification) string {
	out := ""
	for _, n := range ns {
		out += fmt.Sprintf("\n  %s %s sev=%s count=%d incident=%s reminder=%v flapping=%v ref=%q action=%q",
			n.Kind, n.Key, n.Severity, n.Count, n.IncidentID, n.Reminder, n.Flapping, n.Ref, n.Action)
	}
	return out
}

// Kinds summarises notifications as "trigger:<count>" / "resolve" in order.
func Kinds(ns []alert.Notification) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		if n.Kind == alert.Resolve {
			out = append(out, "resolve")
			continue
		}
		out = append(out, fmt.Sprintf("trigger:%d", n.Count))
	}
	return out
}

// Incidents returns the distinct incident ids in ns, sorted.
func Incidents(ns []alert.Notification) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range ns {
		if !seen[n.IncidentID] {
			seen[n.IncidentID] = true
			out = append(out, n.IncidentID)
		}
	}
	sort.Strings(out)
	return out
}
