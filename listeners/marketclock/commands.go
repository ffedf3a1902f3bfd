package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/calendar"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/listener/operator"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/session"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// checkPatterns is -check against supervisord: every pattern of the
// section must match a process.
func checkPatterns(s section, procs []supervisor.ProcessInfo) error {
	lists := s.Lists()
	var errs []error
	for _, field := range slices.Sorted(maps.Keys(lists)) {
		errs = append(errs, procmatch.UnmatchedErrors(field, lists[field], procs)...)
	}
	return errors.Join(errs...)
}

// openPlan opens operator command name (its flags registered by own,
// checked by valid; no arguments besides) and reads marketclock's plan
// from the config. A nil env comes with the exit code; otherwise the
// caller closes env.
func openPlan(ctx context.Context, name string, args []string, sio listener.IO, usage string, own func(*flag.FlagSet),
	valid func() bool) (*listener.Env, *plan, int) {
	env, rest, code := operator.Open(ctx, parts, name, args, sio, own)
	if env == nil {
		return nil, nil, code
	}
	if len(rest) > 0 || (valid != nil && !valid()) {
		env.Close()
		fmt.Fprintf(sio.Stderr, "usage: marketclock %s %s\n", name, usage)
		return nil, nil, listener.ExitUsage
	}
	sec, err := sections.Read[section](env.Config, listenerName)
	var p *plan
	if err == nil {
		p, err = newPlan(sec)
	}
	if err != nil {
		fmt.Fprintf(sio.Stderr, "marketclock %s: %v\n", name, env.Config.LocateError(err))
		env.Close()
		return nil, nil, listener.ExitUsage
	}
	return env, p, listener.ExitOK
}

// planLine is one line of `marketclock plan`.
type planLine struct {
	Date     string    `json:"date"`
	Weekday  string    `json:"weekday"`
	Day      string    `json:"day"` // regular, early-close, late-open, special, holiday, weekend
	Phase    string    `json:"phase,omitempty"`
	At       time.Time `json:"at,omitzero"`
	Exchange string    `json:"exchange_time,omitempty"`
	Local    string    `json:"local_time,omitempty"`
	Does     string    `json:"does,omitempty"`
	Note     string    `json:"note,omitempty"`
	Overlay  bool      `json:"overlay,omitempty"`
}

// planLines lists days from..from+days-1: each trading day's phases, each
// holiday (weekends are left out).
func (p *plan) planLines(from calendar.Date, days int, local *time.Location) []planLine {
	var out []planLine
	occs := p.between(from, from.AddDays(days-1))
	byDay := map[calendar.Date][]occurrence{}
	for _, o := range occs {
		byDay[o.day.Date] = append(byDay[o.day.Date], o)
	}
	for d := from; d.Before(from.AddDays(days)); d = d.AddDays(1) {
		day := p.cal.Day(d)
		base := planLine{Date: d.String(), Weekday: d.Weekday().String()[:3], Day: string(day.Kind), Note: day.Reason, Overlay: day.Overlay != nil}
		if !day.Trades() {
			if day.Kind == session.HolidayDay {
				out = append(out, base)
			}
			continue
		}
		if day.Kind != session.Regular {
			base.Note = strings.TrimSpace(fmt.Sprintf("%s-%s %s", day.Open, day.Close, day.Reason))
		}
		for _, o := range byDay[d] {
			l := base
			ph := o.phase(p)
			l.Phase, l.At, l.Does = ph.Name, o.at, describe(ph)
			l.Exchange = o.at.In(p.loc()).Format("15:04:05 MST")
			l.Local = o.at.In(local).Format("15:04:05 MST")
			out = append(out, l)
		}
	}
	return out
}

// describe says what a phase does, in a few words.
func describe(ph *sections.Phase) string {
	var parts []string
	if ph.Checks != nil {
		parts = append(parts, "checks")
	}
	if ph.Requires != "" {
		parts = append(parts, "if "+ph.Requires+" passed:")
	}
	if len(ph.Stop) > 0 {
		parts = append(parts, "stop "+strings.Join(ph.Stop, ","))
	}
	if len(ph.Start) > 0 {
		parts = append(parts, "start "+strings.Join(ph.Start, ","))
	}
	if ph.Mode != "" {
		parts = append(parts, "mode "+ph.Mode)
	}
	for _, c := range ph.Run {
		parts = append(parts, "run "+c.Name)
	}
	return strings.Join(parts, " ")
}

// planCmd is `marketclock plan [-days N] [-from DATE] [-json]`.
var planCmd = listener.Command{
	Name:     "plan",
	Synopsis: "[-days N] [-from YYYY-MM-DD] [-json]\tthe coming phases with dates in exchange and local time; holidays, early closes and overlay lines marked",
	Run: func(ctx context.Context, args []string, sio listener.IO) int {
		var days int
		var from string
		var asJSON bool
		env, p, code := openPlan(ctx, "plan", args, sio, "[-days N (1-3660)] [-from YYYY-MM-DD] [-json]", func(fs *flag.FlagSet) {
			fs.IntVar(&days, "days", 7, "how many days from -from")
			fs.StringVar(&from, "from", "", "the first day (default today, exchange time)")
			fs.BoolVar(&asJSON, "json", false, "JSON lines instead of a table")
		}, func() bool { return days >= 1 && days <= 3660 })
		if env == nil {
			return code
		}
		defer env.Close()
		var err error
		start := calendar.DateIn(time.Now(), p.loc())
		if from != "" {
			if start, err = calendar.ParseDate(from); err != nil {
				fmt.Fprintln(sio.Stderr, "marketclock plan: -from:", err)
				return listener.ExitUsage
			}
		}
		lines := p.planLines(start, days, time.Local)
		if asJSON {
			enc := json.NewEncoder(sio.Stdout)
			for _, l := range lines {
				_ = enc.Encode(l)
			}
			return listener.ExitOK
		}
		printPlan(sio.Stdout, p, lines, start, days)
		return listener.ExitOK
	},
}

func printPlan(w io.Writer, p *plan, lines []planLine, from calendar.Date, days int) {
	x := p.cal.X
	fmt.Fprintf(w, "%s (%s), %s to %s; calendar checked through %s\n", x.Code, x.Name, from, from.AddDays(days-1), x.DataEnds())
	for _, warn := range p.cal.Warnings(from) {
		fmt.Fprintln(w, "WARNING:", warn)
	}
	tw := listener.Table(w, "DATE\tDAY\tPHASE\tEXCHANGE TIME\tLOCAL TIME\tDOES\tNOTE")
	for _, l := range lines {
		kind := l.Day
		if l.Overlay {
			kind += " (overlay)"
		}
		if l.Phase == "" {
			fmt.Fprintf(tw, "%s %s\t%s\t-\t-\t-\tclosed\t%s\n", l.Date, l.Weekday, kind, l.Note)
			continue
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Date, l.Weekday, kind, l.Phase, l.Exchange, l.Local, l.Does, operator.OrDash(l.Note))
	}
	_ = tw.Flush()
}

// Status is what `marketclock status -json` prints.
type Status struct {
	Exchange string            `json:"exchange"`
	Now      time.Time         `json:"now"`
	Session  *session.Span     `json:"session,omitempty"` // nil: not published or stale
	Next     *session.Span     `json:"next_session,omitempty"`
	Last     *state.Phase      `json:"last_phase,omitempty"`
	NextDue  *planLine         `json:"next_phase,omitempty"`
	Phases   []state.Phase     `json:"phases"` // the last days' records
	Written  time.Time         `json:"published,omitzero"`
	Halted   bool              `json:"halted"`
	Timeline *session.Timeline `json:"-"`
}

// statusCmd is `marketclock status [-json]`.
var statusCmd = listener.Command{
	Name:     "status",
	Synopsis: "[-json]\tthe current session, the last and the next phase, and what each phase of the last days did",
	Run: func(ctx context.Context, args []string, sio listener.IO) int {
		var asJSON bool
		env, p, code := openPlan(ctx, "status", args, sio, "[-json]", func(fs *flag.FlagSet) {
			fs.BoolVar(&asJSON, "json", false, "JSON")
		}, nil)
		if env == nil {
			return code
		}
		defer env.Close()
		st, err := durable.Of(env).Store.Get(ctx)
		if err != nil {
			fmt.Fprintln(sio.Stderr, "marketclock status: state store:", env.Config.Redact(err.Error()))
			return listener.ExitFailed
		}
		now := time.Now()
		s, err := readStatus(ctx, st, p, now)
		if err != nil {
			fmt.Fprintln(sio.Stderr, "marketclock status:", env.Config.Redact(err.Error()))
			return listener.ExitFailed
		}
		if latch, _, err := sections.KillSwitch(env.Config, st.Path()); err == nil && latch != nil {
			s.Halted, _, _ = halt.Halted(ctx, latch)
		}
		if asJSON {
			enc := json.NewEncoder(sio.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(s)
			return listener.ExitOK
		}
		printStatus(sio.Stdout, p, s)
		return listener.ExitOK
	},
}

func readStatus(ctx context.Context, st *state.Store, p *plan, now time.Time) (Status, error) {
	s := Status{Exchange: p.cal.X.Code, Now: now}
	tl, err := st.Session(ctx, p.cal.X.Code)
	if err != nil {
		return s, err
	}
	if tl != nil {
		s.Written, s.Timeline = tl.Written, tl
		if sp, ok := tl.At(now); ok {
			s.Session = &sp
			if n, ok := tl.Next(now); ok {
				s.Next = &n
			}
		}
	}
	today := calendar.DateIn(now, p.loc())
	if s.Phases, err = st.Phases(ctx, p.cal.X.Code, today.AddDays(-lookback).String()); err != nil {
		return s, err
	}
	for i := range s.Phases {
		r := &s.Phases[i]
		if !r.Started.IsZero() && (s.Last == nil || r.Started.After(s.Last.Started)) {
			s.Last = r
		}
	}
	for _, l := range p.planLines(today, 14, time.Local) {
		if l.Phase != "" && l.At.After(now) {
			s.NextDue = &l
			break
		}
	}
	return s, nil
}

func printStatus(w io.Writer, p *plan, s Status) {
	loc := p.loc()
	switch {
	case s.Session == nil && s.Written.IsZero():
		fmt.Fprintf(w, "%s: no session published: is marketclock running?\n", s.Exchange)
	case s.Session == nil:
		fmt.Fprintf(w, "%s: the published session is stale (written %s): is marketclock running?\n", s.Exchange, s.Written.In(loc).Format(time.DateTime))
	default:
		fmt.Fprintf(w, "%s: %s since %s (%s day %s", s.Exchange, s.Session.State, s.Session.From.In(loc).Format("Mon 15:04 MST"), s.Session.Day, s.Session.Date)
		if s.Session.Note != "" {
			fmt.Fprintf(w, ": %s", s.Session.Note)
		}
		fmt.Fprintln(w, ")")
		if s.Next != nil {
			fmt.Fprintf(w, "next: %s at %s\n", s.Next.State, s.Next.From.In(loc).Format("Mon 2006-01-02 15:04 MST"))
		}
		if age := s.Now.Sub(s.Written); age > 2*time.Minute {
			fmt.Fprintf(w, "WARNING: published %s ago: is marketclock running?\n", age.Round(time.Second))
		}
	}
	if s.Halted {
		fmt.Fprintln(w, "trading: HALTED: no phase starts anything")
	}
	if s.Last != nil {
		fmt.Fprintf(w, "last phase: %s %s (%s)\n", s.Last.Day, s.Last.Phase, s.Last.Status)
	}
	if s.NextDue != nil {
		fmt.Fprintf(w, "next phase: %s %s at %s (%s local): %s\n", s.NextDue.Date, s.NextDue.Phase, s.NextDue.Exchange, s.NextDue.Local, s.NextDue.Does)
	}
	if len(s.Phases) == 0 {
		fmt.Fprintln(w, "no phase recorded in the last days")
		return
	}
	tw := listener.Table(w, "DAY\tPHASE\tDUE\tSTATUS\tCHECKS\tSTEPS\tNOTE")
	for _, r := range s.Phases {
		var steps []string
		for _, st := range r.Steps {
			steps = append(steps, st.Name+": "+st.Status+detail(st.Detail))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Day, r.Phase, r.Due.In(loc).Format("15:04:05 MST"), r.Status,
			operator.OrDash(r.Checks), operator.OrDash(operator.Clip(strings.Join(steps, "; "), 140)), operator.OrDash(r.Note))
	}
	_ = tw.Flush()
}

func detail(s string) string {
	if s == "" {
		return ""
	}
	return " (" + operator.Clip(s, 60) + ")"
}
