package calendar

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/session"
)

// published are the exchanges' own lists of non-trading weekdays and
// early closes:
//   - XNYS/XNAS: NYSE Group, "NYSE Group Announces 2025, 2026 and 2027
//     Holiday and Early Closings Calendar" (8 Nov 2024); Nasdaq follows the
//     same days.
//   - XLON: LSEG "Business days" (England and Wales bank holidays; market
//     closing process from 12:30 on the last business days before
//     Christmas Day and New Year's Day).
//   - XETR: Deutsche Börse "Trading calendar" (non-trading days of the
//     Frankfurt Stock Exchange and Xetra).
var published = map[string]map[int]struct {
	closed []string
	early  map[string]string // date: close
}{
	"XNYS": {
		2026: {closed: []string{"2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"},
			early: map[string]string{"2026-11-27": "13:00", "2026-12-24": "13:00"}},
		2027: {closed: []string{"2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24"},
			early: map[string]string{"2027-11-26": "13:00"}},
	},
	"XLON": {
		2026: {closed: []string{"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28"},
			early: map[string]string{"2026-12-24": "12:30", "2026-12-31": "12:30"}},
		2027: {closed: []string{"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"},
			early: map[string]string{"2027-12-24": "12:30", "2027-12-31": "12:30"}},
	},
	"XETR": {
		2026: {closed: []string{"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-24", "2026-12-25", "2026-12-31"}},
		2027: {closed: []string{"2027-01-01", "2027-03-26", "2027-03-29", "2027-12-24", "2027-12-31"}},
	},
}

func init() { published["XNAS"] = published["XNYS"] }

// TestPublishedLists walks every day of the current and next year: the
// weekdays without a session are exactly the published holidays, the
// early closes exactly the published ones, every other weekday trades its
// regular hours.
func TestPublishedLists(t *testing.T) {
	for code, years := range published {
		x, err := Get(code)
		if err != nil {
			t.Fatal(err)
		}
		for year, want := range years {
			var closed []string
			early := map[string]string{}
			for d := (Date{year, time.January, 1}); d.Year == year; d = d.AddDays(1) {
				day := x.Library(d)
				wd := d.Weekday()
				switch {
				case wd == time.Saturday || wd == time.Sunday:
					if day.Trades() || day.Kind != session.Weekend && day.Kind != session.HolidayDay {
						t.Errorf("%s %s (%s): %+v, want no session", code, d, wd, day)
					}
				case !day.Trades():
					closed = append(closed, d.String())
					if day.Reason == "" {
						t.Errorf("%s %s: a holiday without a name", code, d)
					}
				case day.Kind == session.EarlyClose:
					early[d.String()] = day.Close.String()
					if day.Open != x.Open {
						t.Errorf("%s %s: early close opens at %s", code, d, day.Open)
					}
				default:
					if day.Open != x.Open || day.Close != x.Close || day.Kind != session.Regular {
						t.Errorf("%s %s: %+v, want regular %s-%s", code, d, day, x.Open, x.Close)
					}
				}
			}
			if !slices.Equal(closed, want.closed) {
				t.Errorf("%s %d closed weekdays:\n got %v\nwant %v", code, year, closed, want.closed)
			}
			if want.early == nil {
				want.early = map[string]string{}
			}
			if !mapsEqual(early, want.early) {
				t.Errorf("%s %d early closes: got %v, want %v", code, year, early, want.early)
			}
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestNewYearOnSaturdayIsNotObservedByNYSE(t *testing.T) {
	x, _ := Get("xnys")
	if d := x.Library(Date{2027, time.December, 31}); !d.Trades() || d.Kind != session.Regular {
		t.Fatalf("2027-12-31: %+v: NYSE trades the Friday before a Saturday New Year's Day", d)
	}
	if d := x.Library(Date{2028, time.January, 17}); d.Trades() {
		t.Fatalf("MLK day 2028 trades: %+v", d)
	}
}

func TestGetUnknown(t *testing.T) {
	_, err := Get("XNYZ")
	if err == nil || !strings.Contains(err.Error(), `"XNYZ"`) || !strings.Contains(err.Error(), "XLON") {
		t.Fatalf("err = %v, want the code and the list", err)
	}
}

func TestOverlay(t *testing.T) {
	o, err := ParseOverlay("overlay.txt", strings.NewReader(`
# ad-hoc closures no library knows
2027-01-08 XNYS closed National Day of Mourning
2027-03-10 XLON open 10:30 late open after a market-wide outage
2027-03-11 XNYS close 14:15:30 unusual early close
2027-11-27 XNYS session 09:30-13:00 special Saturday session
2026-12-25 XNYS closed Christmas (already a holiday)
2026-11-27 XNYS close 13:00 already early
2026-12-24 XNYS closed closed all day instead of the early close
`))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := New("XNYS", o)
	l, _ := New("XLON", o)
	for _, tc := range []struct {
		c           *Calendar
		date        string
		kind        session.Day
		open, close string
		reason      string
	}{
		{c, "2027-01-08", session.HolidayDay, "00:00", "00:00", "National Day of Mourning"},
		{l, "2027-03-10", session.LateOpen, "10:30", "16:30", "late open after a market-wide outage"},
		{c, "2027-03-10", session.Regular, "09:30", "16:00", ""},
		{c, "2027-03-11", session.EarlyClose, "09:30", "14:15:30", "unusual early close"},
		{c, "2027-11-27", session.Special, "09:30", "13:00", "special Saturday session"},
		{c, "2026-12-24", session.HolidayDay, "00:00", "00:00", "closed all day instead of the early close"},
	} {
		d, _ := ParseDate(tc.date)
		day := tc.c.Day(d)
		if day.Kind != tc.kind || day.Open.String() != tc.open || day.Close.String() != tc.close || day.Reason != tc.reason {
			t.Errorf("%s %s: %+v, want %s %s-%s %q", tc.c.X.Code, tc.date, day, tc.kind, tc.open, tc.close, tc.reason)
		}
	}
	warn := strings.Join(c.Warnings(Date{2026, 1, 1}), "\n")
	for _, w := range []string{
		"overlay.txt:7: 2026-12-25 XNYS closed: the library already closes this day (Christmas Day): the line can go",
		"overlay.txt:8: 2026-11-27 XNYS close: the library already closes at 13:00 (day after Thanksgiving): the line can go",
		"overlay.txt:9: 2026-12-24 XNYS closed: the library has an early close at 13:00 (Christmas Eve); the overlay closes the whole day",
	} {
		if !strings.Contains(warn, w) {
			t.Errorf("warnings lack %q:\n%s", w, warn)
		}
	}
	if strings.Count(warn, "\n") != 2 {
		t.Errorf("want 3 warnings:\n%s", warn)
	}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestOverlayErrors(t *testing.T) {
	_, err := ParseOverlay("o.txt", strings.NewReader(`2027-02-30 XNYS closed bad date
2027-03-01 XNYZ closed bad code
2027-03-02 XNYS shut bad kind
2027-03-03 XNYS closed
2027-03-04 XNYS close 25:00 bad time
2027-03-05 XNYS session 13:00-09:30 backwards
2027-03-08 XNYS closed one
2027-03-08 XNYS close 13:00 and another
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`o.txt:1: date "2027-02-30"`, `o.txt:2: unknown exchange "XNYZ"`, `o.txt:3: unknown kind "shut"`,
		"o.txt:4: no reason", `o.txt:5: time "25:00"`, "o.txt:6: session", "o.txt:8: 2027-03-08 XNYS: conflicts with line 7"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	o, err := ParseOverlay("o.txt", strings.NewReader("2027-03-09 XNYS open 16:30 after the close\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := New("XNYS", o)
	if err := c.Check(); err == nil || !strings.Contains(err.Error(), "o.txt:1: 2027-03-09 XNYS open: the day would open at or after it closes") {
		t.Fatalf("Check = %v", err)
	}
	if d := c.Day(Date{2027, 3, 9}); d.Trades() {
		t.Fatalf("a day opening after its close trades: %+v", d)
	}
	if _, err := LoadOverlay("/nonexistent/overlay.txt"); err == nil {
		t.Fatal("a missing overlay file is not an error")
	}
}

func TestDSTInstants(t *testing.T) {
	x, _ := Get("XNYS")
	fri := Date{2026, 3, 6}.At(x.Open, x.Location()).UTC()
	mon := Date{2026, 3, 9}.At(x.Open, x.Location()).UTC()
	if fri.Hour() != 14 || mon.Hour() != 13 || fri.Minute() != 30 {
		t.Fatalf("open before and after the US DST change: %s, %s", fri, mon)
	}
	if got := (Date{2026, 3, 9}).Sub(Date{2026, 3, 6}); got != 3 {
		t.Fatalf("Sub across DST = %d", got)
	}
}
