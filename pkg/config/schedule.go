package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/session"
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
// zone) falls in w. A window whose end is before its start belongs to the
// day it starts on.
func (w Window) Contains(t time.Time) bool {
	m := TimeOfDay(t.Hour()*60 + t.Minute())
	day := t.Weekday()
	if w.Start < w.End {
		return w.Days.Has(day) && m >= w.Start && m < w.End
	}
	yesterday := (day + 6) % 7
	return (w.Days.Has(day) && m >= w.Start) || (w.Days.Has(yesterday) && m < w.End)
}

// Validate checks the window; errors are FieldErrors at path.
func (w *Window) Validate(path string) error {
	if w.Start == w.End {
		return FieldErrorf(path, "start and end are both %s: the window is empty", w.Start)
	}
	return nil
}

// LoadZone resolves an IANA zone name ("America/New_York"); empty is UTC.
// The error is a FieldError at field.
func LoadZone(field, name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, FieldErrorf(field, "unknown time zone %q", name)
	}
	return loc, nil
}

// QuietHours lowers alert severities one step (critical stays critical)
// during its windows, e.g. outside trading hours. Alerts about a halt or a
// spent restart budget are never lowered.
type QuietHours struct {
	Timezone string   `yaml:"timezone"` // IANA name; empty is UTC
	Windows  []Window `yaml:"windows"`
	// Session names trading-session states marketclock publishes
	// (closed, holiday, ...): quiet while the market is in one of them.
	// Exchange picks the exchange (empty: the only one published).
	Session  []string `yaml:"session"`
	Exchange string   `yaml:"exchange"`
	loc      *time.Location
}

// Location returns the zone of the windows (set by Validate; nil before).
func (q *QuietHours) Location() *time.Location { return q.loc }

func (q *QuietHours) validate(path string) []error {
	var errs []error
	loc, err := LoadZone(path+".timezone", q.Timezone)
	if err != nil {
		errs = append(errs, err)
	}
	q.loc = loc
	if len(q.Windows) == 0 && len(q.Session) == 0 {
		errs = append(errs, FieldErrorf(path+".windows", "at least one window or session is required"))
	}
	if err := session.CheckNames(path+".session", q.Session); err != nil {
		errs = append(errs, FieldErrorf(path+".session", "%v", err))
	}
	for i := range q.Windows {
		if err := q.Windows[i].Validate(fmt.Sprintf("%s.windows[%d]", path, i)); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Maintenance is a window during which matching alerts are recorded in the
// incident ledger but not sent. It is either one-off (from/until
// timestamps) or recurring (days/start/end in timezone), and applies to
// every alert unless restricted by processes (pkg/procmatch patterns; an
// alert matching any of them is covered). Alerts about a halt or a spent
// restart budget are always sent. pkg/alert/route evaluates it.
type Maintenance struct {
	Name string `yaml:"name,omitempty"`

	From  time.Time `yaml:"from,omitempty"`  // RFC 3339
	Until time.Time `yaml:"until,omitempty"` // RFC 3339, after From

	Timezone string    `yaml:"timezone,omitempty"`
	Days     Weekdays  `yaml:"days,omitempty"`
	Start    TimeOfDay `yaml:"start,omitempty"`
	End      TimeOfDay `yaml:"end,omitempty"`

	Processes Patterns `yaml:"processes,omitempty"` // procmatch patterns: "name", "group:name", "group:*"

	// Deprecated: write Processes ("*:name" for a program, "group:*" for a
	// group). Kept so older files still load; -check says what to write.
	Programs Patterns `yaml:"programs,omitempty"`
	Groups   Patterns `yaml:"groups,omitempty"`

	loc       *time.Location
	recurring bool
}

// Recurring reports whether the window repeats (days/start/end) rather
// than being one-off (from/until). Set by Validate.
func (m *Maintenance) Recurring() bool { return m.recurring }

// Location returns the zone of a recurring window (set by Validate).
func (m *Maintenance) Location() *time.Location { return m.loc }

// Window returns the recurring window's days and times.
func (m *Maintenance) Window() Window { return Window{Days: m.Days, Start: m.Start, End: m.End} }

// Selectors returns the process patterns (procmatch syntax) the window
// covers, deprecated programs and groups included; none means every alert.
func (m *Maintenance) Selectors() []string {
	return slices.Concat(programPatterns(m.Programs), groupPatterns(m.Groups), m.Processes)
}

// deprecated says what to write instead of programs and groups, or "".
func (m *Maintenance) deprecated(path string) string {
	used := setFields(oldField{"programs", m.Programs}, oldField{"groups", m.Groups})
	if len(used) == 0 {
		return ""
	}
	return deprecation(path, used, m.Selectors())
}

func (m *Maintenance) validate(path string) []error {
	var errs []error
	oneOff := !m.From.IsZero() || !m.Until.IsZero()
	m.recurring = m.Start != 0 || m.End != 0 || len(m.Days) > 0 || m.Timezone != ""
	switch {
	case oneOff && m.recurring:
		errs = append(errs, FieldErrorf(path, "set either from/until or days/start/end, not both"))
	case oneOff:
		if m.From.IsZero() || m.Until.IsZero() {
			errs = append(errs, FieldErrorf(path, "a one-off window needs both from and until"))
		} else if !m.Until.After(m.From) {
			errs = append(errs, FieldErrorf(path+".until", "must be after from"))
		}
	case m.recurring:
		loc, err := LoadZone(path+".timezone", m.Timezone)
		if err != nil {
			errs = append(errs, err)
		}
		m.loc = loc
		w := Window{Days: m.Days, Start: m.Start, End: m.End}
		if err := w.Validate(path); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, FieldErrorf(path, "set from/until (one-off) or days/start/end (recurring)"))
	}
	for _, f := range []oldField{{"programs", m.Programs}, {"groups", m.Groups}} {
		if err := f.p.validate(path + "." + f.name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := procmatch.CheckAll(path+".processes", m.Processes); err != nil {
		errs = append(errs, err)
	}
	return errs
}
