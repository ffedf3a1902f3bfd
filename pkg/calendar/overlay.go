package calendar

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/superguard/superguard/pkg/session"
)

// Day is one exchange day: its kind, and its session's times when it
// trades.
type Day struct {
	Date Date
	Kind session.Day
	// Open and Close are the session's times of day (zero Close: no
	// session).
	Open, Close Clock
	// Reason names the holiday, the early close's rule or the overlay
	// line's reason.
	Reason string
	// Overlay is the overlay entry that changed the day (nil: none).
	Overlay *Entry
}

// Trades reports whether the day has a session.
func (d Day) Trades() bool { return d.Close > d.Open }

// Kind of an overlay entry.
const (
	EntryClosed  = "closed"  // an ad-hoc closure: no session
	EntryClose   = "close"   // closes early (or late) at the time given
	EntryOpen    = "open"    // opens late (or early) at the time given
	EntrySession = "session" // a session on a day otherwise closed: HH:MM-HH:MM
)

// Entry is one line of the overlay file:
//
//	2027-01-09 XNYS closed National Day of Mourning
//	2026-11-27 XNYS close 13:00 day after Thanksgiving
//	2026-03-10 XLON open 10:30 late open after the outage
//	2026-11-28 XNYS session 09:30-13:00 special Saturday session
type Entry struct {
	Date     Date
	Exchange string
	Kind     string
	Open     Clock // open, session
	Close    Clock // close, session
	Reason   string
	Line     int
}

// Overlay is the operator's calendar corrections, by exchange and date.
type Overlay struct {
	Path    string
	entries map[string]map[Date][]*Entry
}

// Entries returns the overlay's entries for exchange on d.
func (o *Overlay) Entries(exchange string, d Date) []*Entry {
	if o == nil {
		return nil
	}
	return o.entries[exchange][d]
}

// All returns every entry of exchange.
func (o *Overlay) All(exchange string) []*Entry {
	if o == nil {
		return nil
	}
	var out []*Entry
	for _, es := range o.entries[exchange] {
		out = append(out, es...)
	}
	slices.SortFunc(out, func(a, b *Entry) int { return a.Line - b.Line })
	return out
}

// LoadOverlay reads the overlay file at path ("" : none). A missing file
// is an error: an overlay named and not found may hide a closure.
func LoadOverlay(path string) (*Overlay, error) {
	if path == "" {
		return &Overlay{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("overlay: %w", err)
	}
	defer f.Close()
	return ParseOverlay(path, f)
}

// ParseOverlay parses an overlay; errors name the file and line, all of
// them at once.
func ParseOverlay(name string, r io.Reader) (*Overlay, error) {
	o := &Overlay{Path: name, entries: map[string]map[Date][]*Entry{}}
	sc := bufio.NewScanner(r)
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseEntry(line, n)
		if err == nil {
			err = o.add(e)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, n, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return o, nil
}

const entrySyntax = "want DATE EXCHANGE closed REASON, DATE EXCHANGE close|open HH:MM REASON, or DATE EXCHANGE session HH:MM-HH:MM REASON"

func parseEntry(line string, n int) (*Entry, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return nil, fmt.Errorf("%q: %s", line, entrySyntax)
	}
	d, err := ParseDate(f[0])
	if err != nil {
		return nil, err
	}
	x, err := Get(f[1])
	if err != nil {
		return nil, err
	}
	e := &Entry{Date: d, Exchange: x.Code, Kind: f[2], Line: n}
	rest := f[3:]
	switch e.Kind {
	case EntryClosed:
	case EntryClose, EntryOpen:
		if len(rest) == 0 {
			return nil, fmt.Errorf("%s needs a time: %s", e.Kind, entrySyntax)
		}
		c, err := ParseClock(rest[0])
		if err != nil {
			return nil, err
		}
		if e.Kind == EntryClose {
			e.Close = c
		} else {
			e.Open = c
		}
		rest = rest[1:]
	case EntrySession:
		if len(rest) == 0 {
			return nil, fmt.Errorf("session needs HH:MM-HH:MM: %s", entrySyntax)
		}
		from, to, ok := strings.Cut(rest[0], "-")
		if !ok {
			return nil, fmt.Errorf("session %q: want HH:MM-HH:MM", rest[0])
		}
		if e.Open, err = ParseClock(from); err != nil {
			return nil, err
		}
		if e.Close, err = ParseClock(to); err != nil {
			return nil, err
		}
		if e.Close <= e.Open {
			return nil, fmt.Errorf("session %q: the close must be after the open", rest[0])
		}
		rest = rest[1:]
	default:
		return nil, fmt.Errorf("unknown kind %q: %s", e.Kind, entrySyntax)
	}
	e.Reason = strings.Join(rest, " ")
	if e.Reason == "" {
		return nil, fmt.Errorf("no reason: every line says why (%s)", entrySyntax)
	}
	return e, nil
}

// add files e, refusing a second line of the same kind on the same day,
// or closed together with anything else.
func (o *Overlay) add(e *Entry) error {
	byDate := o.entries[e.Exchange]
	if byDate == nil {
		byDate = map[Date][]*Entry{}
		o.entries[e.Exchange] = byDate
	}
	for _, old := range byDate[e.Date] {
		if old.Kind == e.Kind || old.Kind == EntryClosed || e.Kind == EntryClosed || old.Kind == EntrySession || e.Kind == EntrySession {
			return fmt.Errorf("%s %s: conflicts with line %d (%s)", e.Date, e.Exchange, old.Line, old.Kind)
		}
	}
	byDate[e.Date] = append(byDate[e.Date], e)
	return nil
}

// Calendar is an exchange with the operator's overlay.
type Calendar struct {
	X       *Exchange
	Overlay *Overlay
}

// New is the calendar of exchange code with overlay o (nil: none).
func New(code string, o *Overlay) (*Calendar, error) {
	x, err := Get(code)
	if err != nil {
		return nil, err
	}
	return &Calendar{X: x, Overlay: o}, nil
}

// Day is d with the overlay applied.
func (c *Calendar) Day(d Date) Day {
	day, _ := c.apply(d)
	return day
}

// apply lays the overlay's lines for d over the library's day; false
// when they leave an open at or after the close (Check refuses that; the
// day then has no session: nothing is invented).
func (c *Calendar) apply(d Date) (Day, bool) {
	day := c.X.Library(d)
	for _, e := range c.Overlay.Entries(c.X.Code, d) {
		day.Overlay, day.Reason = e, e.Reason
		switch e.Kind {
		case EntryClosed:
			day.Kind, day.Open, day.Close = session.HolidayDay, 0, 0
		case EntrySession:
			day.Kind, day.Open, day.Close = session.Special, e.Open, e.Close
		case EntryClose:
			if day.Trades() {
				day.Kind, day.Close = session.EarlyClose, e.Close
			}
		case EntryOpen:
			if day.Trades() {
				day.Open = e.Open
				if day.Kind == session.Regular {
					day.Kind = session.LateOpen
				}
			}
		}
	}
	if day.Kind != session.HolidayDay && day.Kind != session.Weekend && !day.Trades() {
		day.Kind, day.Open, day.Close = session.HolidayDay, 0, 0
		return day, false
	}
	return day, true
}

// Warnings are what the overlay says that the library already treats
// differently (or the same: a line that can go), one line each, for
// entries on or after from.
func (c *Calendar) Warnings(from Date) []string {
	var out []string
	for _, e := range c.Overlay.All(c.X.Code) {
		if e.Date.Before(from) {
			continue
		}
		lib := c.X.Library(e.Date)
		where := fmt.Sprintf("%s:%d: %s %s %s", c.Overlay.Path, e.Line, e.Date, e.Exchange, e.Kind)
		switch {
		case e.Kind == EntryClosed && !lib.Trades():
			out = append(out, fmt.Sprintf("%s: the library already closes this day (%s): the line can go", where, orWeekend(lib)))
		case e.Kind == EntryClosed && lib.Kind == session.EarlyClose:
			out = append(out, fmt.Sprintf("%s: the library has an early close at %s (%s); the overlay closes the whole day", where, lib.Close, lib.Reason))
		case (e.Kind == EntryClose || e.Kind == EntryOpen) && !lib.Trades():
			out = append(out, fmt.Sprintf("%s: the library closes this day (%s): the line has no effect (a session line opens a closed day)", where, orWeekend(lib)))
		case e.Kind == EntryClose && lib.Kind == session.EarlyClose && lib.Close == e.Close:
			out = append(out, fmt.Sprintf("%s: the library already closes at %s (%s): the line can go", where, lib.Close, lib.Reason))
		case e.Kind == EntryClose && lib.Kind == session.EarlyClose:
			out = append(out, fmt.Sprintf("%s: the library closes at %s (%s); the overlay's %s wins", where, lib.Close, lib.Reason, e.Close))
		case e.Kind == EntrySession && lib.Trades():
			out = append(out, fmt.Sprintf("%s: the library already has a session %s-%s; the overlay's %s-%s wins", where, lib.Open, lib.Close, e.Open, e.Close))
		}
	}
	return out
}

func orWeekend(d Day) string {
	if d.Kind == session.Weekend {
		return "a weekend"
	}
	return d.Reason
}

// Check validates the overlay against the calendar: a day whose open
// ends up at or after its close is an error.
func (c *Calendar) Check() error {
	var errs []error
	for _, e := range c.Overlay.All(c.X.Code) {
		if _, ok := c.apply(e.Date); !ok {
			day := c.X.Library(e.Date)
			errs = append(errs, fmt.Errorf("%s:%d: %s %s %s: the day would open at or after it closes (library session %s-%s)",
				c.Overlay.Path, e.Line, e.Date, e.Exchange, e.Kind, day.Open, day.Close))
		}
	}
	return errors.Join(errs...)
}
