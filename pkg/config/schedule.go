package config

import (
	"fmt"
	"time"
	_ "time/tzdata" // time zones work on hosts without /usr/share/zoneinfo

	"github.com/superguard/superguard/pkg/alert"
)

// Window is a recurring time-of-day window on some weekdays, in a time
// zone chosen by its owner. End before Start wraps past midnight: the
// window then belongs to the day it starts on ("fri 18:00-08:00" runs into
// Saturday morning).
type Window struct {
	Days  Weekdays  `yaml:"days,omitempty"` // empty: every day
	Start TimeOfDay `yaml:"start"`
	End   TimeOfDay `yaml:"end"`
}

// Contains reports whether the wall-clock time t (already in the window's
// zone) falls in the window.
func (w *Window) Contains(t time.Time) bool {
	m := TimeOfDay(t.Hour()*60 + t.Minute())
	day := t.Weekday()
	if w.Start < w.End {
		return w.Days.Has(day) && m >= w.Start && m < w.End
	}
	yesterday := (day + 6) % 7
	return (w.Days.Has(day) && m >= w.Start) || (w.Days.Has(yesterday) && m < w.End)
}

func (w *Window) validate(path string) error {
	if w.Start == w.End {
		return fieldErr(path, "start and end are both %s: the window is empty", w.Start)
	}
	return nil
}

// loadZone resolves an IANA zone name ("America/New_York"); empty is UTC.
func loadZone(field, name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fieldErr(field, "unknown time zone %q", name)
	}
	return loc, nil
}

// QuietHours lowers alert severities one step (critical stays critical)
// during its windows, e.g. outside trading hours. Alerts about a halt or a
// spent restart budget are never lowered.
type QuietHours struct {
	Timezone string   `yaml:"timezone"` // IANA name; empty is UTC
	Windows  []Window `yaml:"windows"`
	loc      *time.Location
}

// Active reports whether t falls in quiet hours.
func (q *QuietHours) Active(t time.Time) bool {
	if q == nil || q.loc == nil {
		return false
	}
	local := t.In(q.loc)
	for i := range q.Windows {
		if q.Windows[i].Contains(local) {
			return true
		}
	}
	return false
}

func (q *QuietHours) validate(path string) []error {
	var errs []error
	loc, err := loadZone(path+".timezone", q.Timezone)
	if err != nil {
		errs = append(errs, err)
	}
	q.loc = loc
	if len(q.Windows) == 0 {
		errs = append(errs, fieldErr(path+".windows", "at least one window is required"))
	}
	for i := range q.Windows {
		if err := q.Windows[i].validate(fmt.Sprintf("%s.windows[%d]", path, i)); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Maintenance is a window during which matching alerts are recorded in the
// incident ledger but not sent. It is either one-off (from/until
// timestamps) or recurring (days/start/end in timezone), and applies to
// every alert unless restricted by programs, groups or processes (an alert
// matching any of them is covered). Alerts about a halt or a spent restart
// budget are always sent.
type Maintenance struct {
	Name string `yaml:"name,omitempty"`

	From  time.Time `yaml:"from,omitempty"`  // RFC 3339
	Until time.Time `yaml:"until,omitempty"` // RFC 3339, after From

	Timezone string    `yaml:"timezone,omitempty"`
	Days     Weekdays  `yaml:"days,omitempty"`
	Start    TimeOfDay `yaml:"start,omitempty"`
	End      TimeOfDay `yaml:"end,omitempty"`

	Programs  Patterns `yaml:"programs,omitempty"`
	Groups    Patterns `yaml:"groups,omitempty"`
	Processes Patterns `yaml:"processes,omitempty"` // "group:program"

	loc       *time.Location
	recurring bool
}

// Covers reports whether the window applies to alert a at time t.
func (m *Maintenance) Covers(a *alert.Alert, t time.Time) bool {
	if m.recurring {
		w := Window{Days: m.Days, Start: m.Start, End: m.End}
		if m.loc == nil || !w.Contains(t.In(m.loc)) {
			return false
		}
	} else if t.Before(m.From) || !t.Before(m.Until) {
		return false
	}
	if len(m.Programs) == 0 && len(m.Groups) == 0 && len(m.Processes) == 0 {
		return true
	}
	group := a.Group
	if group == "" {
		group = a.Program
	}
	return m.Programs.Match(a.Program) || m.Groups.Match(group) || m.Processes.Match(a.Process())
}

func (m *Maintenance) validate(path string) []error {
	var errs []error
	oneOff := !m.From.IsZero() || !m.Until.IsZero()
	m.recurring = m.Start != 0 || m.End != 0 || len(m.Days) > 0 || m.Timezone != ""
	switch {
	case oneOff && m.recurring:
		errs = append(errs, fieldErr(path, "set either from/until or days/start/end, not both"))
	case oneOff:
		if m.From.IsZero() || m.Until.IsZero() {
			errs = append(errs, fieldErr(path, "a one-off window needs both from and until"))
		} else if !m.Until.After(m.From) {
			errs = append(errs, fieldErr(path+".until", "must be after from"))
		}
	case m.recurring:
		loc, err := loadZone(path+".timezone", m.Timezone)
		if err != nil {
			errs = append(errs, err)
		}
		m.loc = loc
		w := Window{Days: m.Days, Start: m.Start, End: m.End}
		if err := w.validate(path); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fieldErr(path, "set from/until (one-off) or days/start/end (recurring)"))
	}
	for _, f := range []struct {
		name string
		p    Patterns
	}{{"programs", m.Programs}, {"groups", m.Groups}, {"processes", m.Processes}} {
		if err := f.p.validate(path + "." + f.name); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// InMaintenance returns the first maintenance window covering a at t.
func (c *Config) InMaintenance(a *alert.Alert, t time.Time) (*Maintenance, bool) {
	for i := range c.Maintenance {
		if c.Maintenance[i].Covers(a, t) {
			return &c.Maintenance[i], true
		}
	}
	return nil, false
}
