package calendar

import (
	"cmp"
	"fmt"
	"time"
)

// Date is a calendar day, without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// dateOf is the day of t in t's own zone.
func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// DateIn is the day t falls on in loc.
func DateIn(t time.Time, loc *time.Location) Date { return dateOf(t.In(loc)) }

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return dateOf(t), nil
}

// String is YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// AddDays is d moved n days (negative: back).
func (d Date) AddDays(n int) Date {
	return dateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday is d's day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// Compare is -1, 0 or 1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	return cmp.Or(cmp.Compare(d.Year, e.Year), cmp.Compare(d.Month, e.Month), cmp.Compare(d.Day, e.Day))
}

// Sub is the number of days from e to d.
func (d Date) Sub(e Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 12, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Round(24*time.Hour) / (24 * time.Hour))
}

// At is the instant of time of day c on d in loc. A wall time that does
// not exist (skipped by a DST change) is moved forward by the gap, one
// that occurs twice takes its first occurrence (time.Date's rules).
func (d Date) At(c Clock, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, int(c), 0, loc)
}

// Midnight is the start of d in loc.
func (d Date) Midnight(loc *time.Location) time.Time { return d.At(0, loc) }

// Clock is a time of day in seconds since midnight (wall clock).
type Clock int

func clock(h, m int) Clock { return Clock(h*3600 + m*60) }

// ParseClock parses HH:MM or HH:MM:SS (00:00 to 24:00).
func ParseClock(s string) (Clock, error) {
	var h, m, sec int
	n, err := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec)
	if err != nil && n < 2 {
		if n, err = fmt.Sscanf(s, "%d:%d", &h, &m); n != 2 || err != nil {
			return 0, fmt.Errorf("time %q: want HH:MM or HH:MM:SS", s)
		}
	}
	if len(s) != 5 && len(s) != 8 || h < 0 || m < 0 || m > 59 || sec < 0 || sec > 59 || h > 24 || (h == 24 && (m > 0 || sec > 0)) {
		return 0, fmt.Errorf("time %q: want HH:MM or HH:MM:SS between 00:00 and 24:00", s)
	}
	return Clock(h*3600 + m*60 + sec), nil
}

// String is HH:MM, or HH:MM:SS when seconds are set.
func (c Clock) String() string {
	if c%60 != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", c/3600, c%3600/60, c%60)
	}
	return fmt.Sprintf("%02d:%02d", c/3600, c%3600/60)
}

// Duration is c as a time.Duration since midnight.
func (c Clock) Duration() time.Duration { return time.Duration(c) * time.Second }
