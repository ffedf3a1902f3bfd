// Package calendar holds the exchange calendars marketclock runs the
// trading day by: XNYS and XNAS (New York), XLON (London) and XETR
// (Xetra, Frankfurt), composed from the holiday rules of
// github.com/rickar/cal/v2 (rules in code: Easter-based days such as Good
// Friday, weekday offsets, weekend substitution) with each exchange's own
// exceptions and early closes, and an operator overlay for what no library
// knows yet (ad-hoc closures, special early closes and late opens, special
// sessions). It needs no network and no zoneinfo on the host: time zones
// are embedded.
//
// Each exchange is tested against its published holiday list for the
// years up to VerifiedThrough; beyond it the rules still compute, but an
// ad-hoc closure or a changed rule may be missing: marketclock warns
// ahead of that date (warn_days).
package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // exchange time zones work on hosts without /usr/share/zoneinfo

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/us"

	"github.com/superguard/superguard/pkg/session"
)

// Exchange is one exchange's calendar rules.
type Exchange struct {
	Code string // ISO 10383 MIC: XNYS, XNAS, XLON, XETR
	Name string
	Zone string // IANA time zone of its hours
	// Open and Close are the regular session's times of day; EarlyClose
	// is the close on an early-close day.
	Open, Close, EarlyClose Clock
	// VerifiedThrough is the last year checked against the exchange's
	// published list.
	VerifiedThrough int

	loc      *time.Location
	holidays []*cal.Holiday
	early    func(x *Exchange, year int) []ruleDay
}

// ruleDay is a day a rule names, with why.
type ruleDay struct {
	date   Date
	reason string
}

// Location is the exchange's time zone.
func (x *Exchange) Location() *time.Location { return x.loc }

// DataEnds is the last day the calendar was checked for.
func (x *Exchange) DataEnds() Date { return Date{x.VerifiedThrough, time.December, 31} }

// weekdayNoSat moves a Sunday holiday to Monday and leaves a Saturday one
// unobserved: NYSE does not close the Friday before a Saturday New Year's
// Day (rule 7.2), so New Year's Day 2028 closes no day of 2027.
var weekdayNoSat = []cal.AltDay{{Day: time.Sunday, Offset: 1}}

var nyseHolidays = []*cal.Holiday{
	us.NewYear.Clone(&cal.Holiday{Observed: weekdayNoSat}),
	us.MlkDay,
	us.PresidentsDay.Clone(&cal.Holiday{Name: "Washington's Birthday"}),
	aa.GoodFriday.Clone(&cal.Holiday{Name: "Good Friday"}),
	us.MemorialDay,
	us.Juneteenth.Clone(&cal.Holiday{StartYear: 2022}), // first closed in 2022
	us.IndependenceDay,
	us.LaborDay,
	us.ThanksgivingDay,
	us.ChristmasDay,
}

// nyseEarly: 13:00 on the day after Thanksgiving, on Christmas Eve and on
// 3 July, each when it is a weekday that is not itself a holiday.
func nyseEarly(x *Exchange, year int) []ruleDay {
	_, thanks := us.ThanksgivingDay.Calc(year)
	out := []ruleDay{{dateOf(thanks).AddDays(1), "day after Thanksgiving"}}
	for _, d := range []ruleDay{{Date{year, time.July, 3}, "day before Independence Day"}, {Date{year, time.December, 24}, "Christmas Eve"}} {
		if d.date.Weekday() != time.Saturday && d.date.Weekday() != time.Sunday && x.holiday(d.date) == "" {
			out = append(out, d)
		}
	}
	return out
}

var lseHolidays = []*cal.Holiday{
	gb.NewYear, gb.GoodFriday, gb.EasterMonday, gb.EarlyMay, gb.VEDay, gb.CoronationDay,
	gb.SpringHoliday, gb.SpringHoliday2022, gb.PlatinumJubilee, gb.SummerHoliday, gb.ChristmasDay, gb.BoxingDay,
}

// lseEarly: the market closing process starts at 12:30 on the last
// business day before Christmas Day and before New Year's Day.
func lseEarly(x *Exchange, year int) []ruleDay {
	return []ruleDay{
		{x.lastTradingDayBefore(Date{year, time.December, 25}), "Christmas Eve (festive hours)"},
		{x.lastTradingDayBefore(Date{year + 1, time.January, 1}), "New Year's Eve (festive hours)"},
	}
}

// xetraHolidays: Xetra closes on these days, with no weekend substitution;
// Whit Monday and German Unity Day are trading days. Its hours on the last
// trading day of the year are announced each year: write them in the
// overlay.
var xetraHolidays = []*cal.Holiday{
	aa.NewYear.Clone(&cal.Holiday{Name: "New Year's Day"}),
	aa.GoodFriday.Clone(&cal.Holiday{Name: "Good Friday"}),
	aa.EasterMonday.Clone(&cal.Holiday{Name: "Easter Monday"}),
	aa.WorkersDay.Clone(&cal.Holiday{Name: "Labour Day"}),
	{Name: "Christmas Eve", Month: time.December, Day: 24, Func: cal.CalcDayOfMonth},
	aa.ChristmasDay.Clone(&cal.Holiday{Name: "Christmas Day"}),
	aa.ChristmasDay2.Clone(&cal.Holiday{Name: "Boxing Day"}),
	{Name: "New Year's Eve", Month: time.December, Day: 31, Func: cal.CalcDayOfMonth},
}

var exchanges = map[string]*Exchange{
	"XNYS": {Code: "XNYS", Name: "New York Stock Exchange", Zone: "America/New_York",
		Open: clock(9, 30), Close: clock(16, 0), EarlyClose: clock(13, 0), VerifiedThrough: 2027,
		holidays: nyseHolidays, early: nyseEarly},
	"XNAS": {Code: "XNAS", Name: "Nasdaq", Zone: "America/New_York",
		Open: clock(9, 30), Close: clock(16, 0), EarlyClose: clock(13, 0), VerifiedThrough: 2027,
		holidays: nyseHolidays, early: nyseEarly},
	"XLON": {Code: "XLON", Name: "London Stock Exchange", Zone: "Europe/London",
		Open: clock(8, 0), Close: clock(16, 30), EarlyClose: clock(12, 30), VerifiedThrough: 2027,
		holidays: lseHolidays, early: lseEarly},
	"XETR": {Code: "XETR", Name: "Xetra (Deutsche Börse)", Zone: "Europe/Berlin",
		Open: clock(9, 0), Close: clock(17, 30), EarlyClose: clock(14, 0), VerifiedThrough: 2027,
		holidays: xetraHolidays},
}

func init() {
	for _, x := range exchanges {
		loc, err := time.LoadLocation(x.Zone)
		if err != nil {
			panic("calendar: " + x.Code + ": " + err.Error())
		}
		x.loc = loc
	}
}

// Codes lists the exchanges known, sorted.
func Codes() []string {
	out := make([]string, 0, len(exchanges))
	for c := range exchanges {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Get returns the exchange with MIC code (case-insensitive).
func Get(code string) (*Exchange, error) {
	if x, ok := exchanges[strings.ToUpper(strings.TrimSpace(code))]; ok {
		return x, nil
	}
	return nil, fmt.Errorf("unknown exchange %q (known: %s)", code, strings.Join(Codes(), ", "))
}

// holiday returns the name of the library holiday on d, or "".
func (x *Exchange) holiday(d Date) string {
	for _, h := range x.holidays {
		for _, y := range []int{d.Year - 1, d.Year, d.Year + 1} {
			if _, obs := h.Calc(y); !obs.IsZero() && dateOf(obs) == d {
				return h.Name
			}
		}
	}
	return ""
}

// lastTradingDayBefore is the last weekday before d that is no holiday.
func (x *Exchange) lastTradingDayBefore(d Date) Date {
	for d = d.AddDays(-1); ; d = d.AddDays(-1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday && x.holiday(d) == "" {
			return d
		}
	}
}

// Library is the day d as the exchange's rules alone have it (no
// overlay).
func (x *Exchange) Library(d Date) Day {
	day := Day{Date: d, Kind: session.Regular}
	if name := x.holiday(d); name != "" {
		day.Kind, day.Reason = session.HolidayDay, name
		return day
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		day.Kind = session.Weekend
		return day
	}
	day.Open, day.Close = x.Open, x.Close
	if x.early != nil {
		for _, e := range x.early(x, d.Year) {
			if e.date == d {
				day.Kind, day.Close, day.Reason = session.EarlyClose, x.EarlyClose, e.reason
			}
		}
	}
	return day
}
