package main

import (
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/calendar"
)

// BenchmarkPlanYear: `marketclock plan -days 365` for three exchanges,
// six phases each, beside one exchange's year.
//
//	go test -run '^$' -bench PlanYear ./listeners/marketclock
//
// goal: plan-year-3-exchanges-ms < 50
// versus: one exchange: plan-year-1-exchange-ms
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
	if n := len(plans[0].planLines(from, 365, time.UTC)); n < 1000 {
		b.Fatalf("a year of XNYS is %d lines", n)
	}
	var one, three []float64
	for b.Loop() {
		t0 := time.Now()
		plans[0].planLines(from, 365, time.UTC)
		one = append(one, ms(time.Since(t0)))
		t0 = time.Now()
		for _, p := range plans {
			p.planLines(from, 365, time.UTC)
		}
		three = append(three, ms(time.Since(t0)))
	}
	b.ReportMetric(testsupport.Median(three), "plan-year-3-exchanges-ms")
	b.ReportMetric(testsupport.Median(one), "plan-year-1-exchange-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
