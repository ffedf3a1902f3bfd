package main

import (
	"testing"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/calendar"
)

// BenchmarkPlanYear: `marketclock plan -days 365` for three exchanges,
// six phases each (goal: under 50 ms for the three); the comparison is one
// exchange's year.
func BenchmarkPlanYear(b *testing.B) {
	var plans []*plan
	for _, code := range []string{"XNYS", "XLON", "XETR"} {
		sec := sections.Marketclock{Exchange: code, Phases: []sections.Phase{
			{Name: "connect", At: "open - 15m", Start: []string{"md:*"}},
			{Name: "preopen", At: "open - 5m", Checks: &sections.Checks{Running: []string{"md:*"}}},
			{Name: "open", At: "open", Requires: "preopen", Start: []string{"strat:*"}},
			{Name: "close-only", At: "close - 10m", Stop: []string{"x"}},
			{Name: "snapshot", At: "close", Run: []sections.Command{{Argv: []string{"/bin/true"}}}},
			{Name: "stop", At: "close + 30m", Stop: []string{"strat:*"}},
		}}.WithDefaults()
		p, err := newPlan(sec)
		if err != nil {
			b.Fatal(err)
		}
		plans = append(plans, p)
	}
	from := calendar.Date{Year: 2027, Month: time.January, Day: 1}
	b.Run("one-exchange", func(b *testing.B) {
		for b.Loop() {
			if n := len(plans[0].planLines(from, 365, time.UTC)); n < 1000 {
				b.Fatalf("%d lines", n)
			}
		}
	})
	b.Run("three-exchanges", func(b *testing.B) {
		for b.Loop() {
			for _, p := range plans {
				p.planLines(from, 365, time.UTC)
			}
		}
	})
}
