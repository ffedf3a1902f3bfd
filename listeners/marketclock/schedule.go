package main

import (
	"cmp"
	"slices"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/calendar"
	"github.com/superguard/superguard/pkg/session"
)

// plan is the trading day's schedule: the calendar, the phases and their
// parsed times.
type plan struct {
	cal    *calendar.Calendar
	phases []sections.Phase
	times  []sections.PhaseTime
	// closeOnly is the index of the phase that sends close_only (-1:
	// none): the session is close-only from it to the close.
	closeOnly int
}

func newPlan(sec sections.Marketclock) (*plan, error) {
	cal, times, err := sec.Build()
	if err != nil {
		return nil, err
	}
	p := &plan{cal: cal, phases: sec.Phases, times: times, closeOnly: -1}
	for i, ph := range sec.Phases {
		if ph.Mode == sections.ModeCloseOnly && (p.closeOnly < 0 || times[i].Offset < times[p.closeOnly].Offset) {
			p.closeOnly = i
		}
	}
	return p, nil
}

func (p *plan) loc() *time.Location { return p.cal.X.Location() }

// occurrence is one phase on one exchange day.
type occurrence struct {
	day   calendar.Day
	index int // in plan.phases
	at    time.Time
}

func (o occurrence) phase(p *plan) *sections.Phase { return &p.phases[o.index] }

// between returns the occurrences of the exchange days from..to
// (inclusive), by time, then by the phases' order.
func (p *plan) between(from, to calendar.Date) []occurrence {
	var out []occurrence
	for d := from; !to.Before(d); d = d.AddDays(1) {
		day := p.cal.Day(d)
		for i, t := range p.times {
			if at, ok := t.On(day, p.loc()); ok {
				out = append(out, occurrence{day: day, index: i, at: at})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b occurrence) int {
		return cmp.Or(a.at.Compare(b.at), a.day.Date.Compare(b.day.Date), a.index-b.index)
	})
	return out
}

// preOpen is when the day's pre-open begins: the earliest phase before
// the open (the open itself when none is).
func (p *plan) preOpen(day calendar.Day) time.Time {
	open := day.Date.At(day.Open, p.loc())
	start := open
	for _, t := range p.times {
		if at, ok := t.On(day, p.loc()); ok && at.Before(start) && !at.Before(open.Add(-12*time.Hour)) {
			start = at
		}
	}
	return start
}

// timelineHorizon is how far ahead a published timeline reaches: a reader
// of a timeline marketclock stopped refreshing falls back to "unknown"
// after it.
const timelineHorizon = 36 * time.Hour

// timeline is the session from the start of yesterday (exchange time) to
// now + timelineHorizon.
func (p *plan) timeline(now time.Time) session.Timeline {
	loc := p.loc()
	today := calendar.DateIn(now, loc)
	until := now.Add(timelineHorizon)
	tl := session.Timeline{Exchange: p.cal.X.Code, Written: now, Until: until}
	add := func(from time.Time, st session.State, day calendar.Day) {
		sp := session.Span{From: from, State: st, Day: day.Kind, Date: day.Date.String(), Note: day.Reason}
		if n := len(tl.Spans); n > 0 && tl.Spans[n-1].From.Equal(from) {
			tl.Spans[n-1] = sp
			return
		}
		tl.Spans = append(tl.Spans, sp)
	}
	for d := today.AddDays(-1); d.Midnight(loc).Before(until); d = d.AddDays(1) {
		day := p.cal.Day(d)
		mid := d.Midnight(loc)
		switch {
		case day.Kind == session.HolidayDay:
			add(mid, session.Holiday, day)
			continue
		case !day.Trades():
			add(mid, session.Closed, day)
			continue
		}
		open, close := d.At(day.Open, loc), d.At(day.Close, loc)
		add(mid, session.Closed, day)
		if pre := p.preOpen(day); pre.Before(open) {
			add(later(pre, mid), session.PreOpen, day)
		}
		add(open, session.Open, day)
		if p.closeOnly >= 0 {
			if at, ok := p.times[p.closeOnly].On(day, loc); ok && at.After(open) && at.Before(close) {
				add(at, session.CloseOnly, day)
			}
		}
		add(close, session.Closed, day)
	}
	return tl
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
