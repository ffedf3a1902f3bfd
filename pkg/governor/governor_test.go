package governor_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/halt/halttest"
	"github.com/superguard/superguard/pkg/state"
)

func openStore(t *testing.T) *state.Store {
	t.Helper()
	s, err := state.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBudgetAndBackoff(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	g := &governor.Governor{Store: openStore(t), Now: c.now,
		Budget: governor.Budget{Max: 3, Window: time.Hour, Backoff: time.Minute, MaxBackoff: 3 * time.Minute}}
	ctx := t.Context()
	const p = "trading:strat_00"
	step := func(want governor.Verdict, used int) governor.Decision {
		t.Helper()
		d := g.Ask(ctx, p)
		if d.Verdict != want || d.Used != used {
			t.Fatalf("at %s: Ask = %v (%s), want %v with %d used", c.t.Format(time.TimeOnly), d.Verdict, d, want, used)
		}
		return d
	}
	step(governor.Allow, 0)
	if err := g.Record(ctx, p); err != nil {
		t.Fatal(err)
	}
	if d := step(governor.Wait, 1); !d.Until.Equal(c.t.Add(time.Minute)) {
		t.Errorf("Until = %s, want the 1m back-off", d.Until)
	}
	c.t = c.t.Add(time.Minute)
	step(governor.Allow, 1)
	_ = g.Record(ctx, p)
	c.t = c.t.Add(90 * time.Second) // the second back-off is 2m
	step(governor.Wait, 2)
	c.t = c.t.Add(30 * time.Second)
	step(governor.Allow, 2)
	_ = g.Record(ctx, p)
	first := c.t.Add(-3 * time.Minute)
	if d := step(governor.Spent, 3); !d.Until.Equal(first.Add(time.Hour)) || d.Left() != 0 {
		t.Errorf("Until = %s, Left = %d: want the first restart's end of window, 0 left", d.Until, d.Left())
	}
	// Another process has its own budget.
	if d := g.Ask(ctx, "trading:strat_01"); d.Verdict != governor.Allow {
		t.Errorf("other process: %s", d)
	}
	// The first restart leaves the window: one more is allowed.
	c.t = first.Add(time.Hour + time.Second)
	step(governor.Allow, 2)
}

func TestResetForgetsTheBudget(t *testing.T) {
	s := openStore(t)
	g := &governor.Governor{Store: s, Budget: governor.Budget{Max: 1, Backoff: time.Nanosecond, MaxBackoff: time.Nanosecond}}
	_ = g.Record(t.Context(), "a:a")
	if d := g.Ask(t.Context(), "a:a"); d.Verdict != governor.Spent {
		t.Fatalf("Ask = %s, want spent", d)
	}
	if n, err := s.ResetRestarts(t.Context(), "a:a"); err != nil || n != 1 {
		t.Fatalf("ResetRestarts = %d, %v", n, err)
	}
	if d := g.Ask(t.Context(), "a:a"); d.Verdict != governor.Allow {
		t.Errorf("after reset: %s", d)
	}
}

func TestNothingRestartsWhileHaltedOrUnknown(t *testing.T) {
	latch := &halttest.Latch{}
	g := &governor.Governor{Store: openStore(t), Latch: latch}
	ctx := t.Context()
	if d := g.Ask(ctx, "a:a"); d.Verdict != governor.Allow {
		t.Fatalf("clear latch: %s", d)
	}
	if err := latch.Set(ctx, halt.Record{Reason: "risk_manager FATAL", By: "haltguard", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if d := g.Ask(ctx, "a:a"); d.Verdict != governor.Halted || d.Err != nil {
		t.Errorf("latched: %s", d)
	}
	// A latch that cannot be read is treated as set.
	g.Latch = failingLatch{}
	if d := g.Ask(ctx, "a:a"); d.Verdict != governor.Halted || d.Err == nil {
		t.Errorf("unreadable latch: %s", d)
	}
}

func TestUnreadableStoreRestartsNothing(t *testing.T) {
	s := openStore(t)
	g := &governor.Governor{Store: s}
	_ = s.Close()
	if d := g.Ask(t.Context(), "a:a"); d.Verdict != governor.Unknown || d.Err == nil {
		t.Errorf("closed store: %s", d)
	}
}

func TestBudgetValidate(t *testing.T) {
	if err := (governor.Budget{}).WithDefaults().Validate("b"); err != nil {
		t.Errorf("defaults: %v", err)
	}
	err := governor.Budget{Max: -1, Window: time.Second, Backoff: time.Hour, MaxBackoff: time.Minute}.Validate("b")
	for _, want := range []string{"b.max", "b.window", "b.backoff"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to name %s", err, want)
		}
	}
}

type failingLatch struct{}

func (failingLatch) Get(context.Context) (halt.LatchState, error) {
	return halt.LatchState{}, errors.New("read halt.latch: input/output error")
}
func (failingLatch) Set(context.Context, halt.Record) error            { return nil }
func (failingLatch) Complete(context.Context, string, time.Time) error { return nil }
func (failingLatch) Clear(context.Context, string, time.Time) error    { return nil }
