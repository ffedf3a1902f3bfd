package pipelinetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

var t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

func fired(c <-chan time.Time) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestClock(t *testing.T) {
	c := NewClock(t0)
	soon, _ := c.NewTimer(time.Second)
	later, stopLater := c.NewTimer(time.Minute)
	now, _ := c.NewTimer(0)
	if !fired(now) {
		t.Error("a zero timer did not fire at once")
	}
	if got := c.Waiters(); got != 2 {
		t.Fatalf("Waiters = %d, want 2", got)
	}
	c.Advance(999 * time.Millisecond)
	if fired(soon) {
		t.Error("timer fired early")
	}
	c.Advance(time.Millisecond)
	if !fired(soon) || c.Waiters() != 1 {
		t.Errorf("timer due at 1s: fired %v, waiters %d", !fired(soon), c.Waiters())
	}
	if !stopLater() || stopLater() {
		t.Error("Stop: want true once, then false")
	}
	c.Set(t0.Add(time.Hour))
	if fired(later) {
		t.Error("a stopped timer fired")
	}
	c.Set(t0) // never backwards
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("Now = %v after setting it back", c.Now())
	}
	c.WaitForWaiters(t, 0)
}

func TestNotifier(t *testing.T) {
	n := NewNotifier("slack")
	boom := errors.New("boom")
	n.Fail(boom, nil)
	trig := &alert.Notification{Alert: alert.Alert{Kind: alert.Trigger, Key: "k"}}
	if _, err := n.Notify(context.Background(), trig); !errors.Is(err, boom) {
		t.Errorf("first call = %v, want the scripted error", err)
	}
	r, err := n.Notify(context.Background(), trig)
	if err != nil || r.Ref != "slack/2" {
		t.Errorf("second call = %+v, %v; want receipt slack/2", r, err)
	}
	res := &alert.Notification{Alert: alert.Alert{Kind: alert.Resolve, Key: "k"}, Ref: "slack/2"}
	if r, _ := n.Notify(context.Background(), res); r.Ref != "" {
		t.Errorf("resolve receipt = %q", r.Ref)
	}
	if got := Kinds(n.WaitCalls(t, 3)); len(got) != 3 || got[2] != "resolve" {
		t.Errorf("Kinds = %v", got)
	}
	n.SetHook(func(context.Context, *alert.Notification) (alert.Receipt, error) {
		return alert.Receipt{Ref: "hooked"}, nil
	})
	if r, _ := n.Notify(context.Background(), trig); r.Ref != "hooked" || len(n.Calls()) != 4 {
		t.Errorf("hooked call = %+v, %d calls", r, len(n.Calls()))
	}
}
