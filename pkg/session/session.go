// Package session is the trading session as marketclock publishes it in
// the shared state store and other listeners read it: a timeline of spans
// (pre-open, open, close-only, closed, holiday) computed from the exchange
// calendar and marketclock's phases, valid until a horizon. A listener's
// window may name session states (`session: [open]`), so that a staleness
// check or quiet hours follow the real calendar, holidays and early closes
// included, instead of fixed times.
//
// A reader that cannot know the session (no timeline, one past its
// horizon, a store it cannot read) must take the dangerous case for its own
// purpose: a check stays active, quiet hours do not apply.
package session

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is the market's state in a span.
type State string

// States.
const (
	PreOpen   State = "pre-open"   // before the open, from the first phase that prepares it
	Open      State = "open"       // the regular session
	CloseOnly State = "close-only" // open, strategies told to close only
	Closed    State = "closed"     // a trading day outside its session, or a weekend
	Holiday   State = "holiday"    // an exchange holiday or an ad-hoc closure
)

// Day is the kind of exchange day a span belongs to.
type Day string

// Days.
const (
	Regular    Day = "regular"
	EarlyClose Day = "early-close" // closes early (a library rule or the overlay)
	LateOpen   Day = "late-open"   // opens late (the overlay)
	Special    Day = "special"     // a session on a day otherwise closed (the overlay)
	HolidayDay Day = "holiday"
	Weekend    Day = "weekend"
)

// Names a window may use: the states, plus "early-close" (any state but
// closed on an early-close day) and "trading" (pre-open, open or
// close-only).
var Names = []string{string(PreOpen), string(Open), string(CloseOnly), string(Closed), string(Holiday), "early-close", "trading"}

// CheckNames validates names a window lists; the error names field.
func CheckNames(field string, names []string) error {
	for _, n := range names {
		if !slices.Contains(Names, n) {
			return fmt.Errorf("%s: unknown session %q (known: %s)", field, n, strings.Join(Names, ", "))
		}
	}
	return nil
}

// Span is one state from From until the next span's From.
type Span struct {
	From  time.Time `json:"from"`
	State State     `json:"state"`
	Day   Day       `json:"day"`
	Date  string    `json:"date"` // the exchange day, YYYY-MM-DD
	Note  string    `json:"note,omitempty"`
}

// Timeline is an exchange's session spans, sorted, valid until Until.
type Timeline struct {
	Exchange string    `json:"exchange"`
	Written  time.Time `json:"written"`
	Until    time.Time `json:"until"`
	Spans    []Span    `json:"spans"`
}

// At returns the span t falls in; false when t is before the first span or
// at or after Until (the timeline does not know).
func (tl *Timeline) At(t time.Time) (Span, bool) {
	if tl == nil || len(tl.Spans) == 0 || t.Before(tl.Spans[0].From) || !t.Before(tl.Until) {
		return Span{}, false
	}
	i, _ := slices.BinarySearchFunc(tl.Spans, t, func(s Span, t time.Time) int { return s.From.Compare(t) })
	if i == len(tl.Spans) || tl.Spans[i].From.After(t) {
		i--
	}
	return tl.Spans[i], true
}

// Next returns the first span after t's that changes the state (false: none
// within the horizon).
func (tl *Timeline) Next(t time.Time) (Span, bool) {
	cur, ok := tl.At(t)
	if !ok {
		return Span{}, false
	}
	for _, s := range tl.Spans {
		if s.From.After(t) && s.State != cur.State && s.From.Before(tl.Until) {
			return s, true
		}
	}
	return Span{}, false
}

// Matches reports whether span s is one of names.
func Matches(names []string, s Span) bool {
	for _, n := range names {
		switch n {
		case "trading":
			if s.State == PreOpen || s.State == Open || s.State == CloseOnly {
				return true
			}
		case "early-close":
			if s.Day == EarlyClose && s.State != Closed && s.State != Holiday {
				return true
			}
		default:
			if State(n) == s.State {
				return true
			}
		}
	}
	return false
}

// Window is a set of session names of one exchange, as a listener's
// config names it. Exchange empty: the only exchange published.
type Window struct {
	Exchange string   `yaml:"exchange,omitempty"`
	Sessions []string `yaml:"sessions"`
}

// In reports whether the timeline puts t in one of w's sessions; known is
// false when the timeline does not cover t (nil, or past its horizon).
func (w Window) In(tl *Timeline, t time.Time) (in, known bool) {
	s, ok := tl.At(t)
	if !ok {
		return false, false
	}
	return Matches(w.Sessions, s), true
}
