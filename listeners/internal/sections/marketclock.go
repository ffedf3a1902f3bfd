package sections

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/calendar"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/session"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Marketclock is marketclock's section: the exchange whose calendar runs
// the trading day, the operator's calendar overlay, and the phases of the
// day with what each does.
type Marketclock struct {
	// Exchange is the MIC of the calendar: XNYS, XNAS, XLON or XETR.
	Exchange string `yaml:"exchange"`
	// Overlay is the operator's calendar corrections file (package
	// calendar): ad-hoc closures, special early closes and late opens.
	Overlay string `yaml:"overlay"`
	// WarnDays: a warning alert when the calendar's verified data ends
	// within this many days (default 60).
	WarnDays int `yaml:"warn_days"`
	// LateAfter: a phase found due at start-up more than this late was
	// missed (the listener was not running): its start and stop actions
	// are caught up, its commands run only with missed: run (default
	// 10m).
	LateAfter time.Duration `yaml:"late_after"`
	// Modes says how strategies are told to go close-only or back to
	// normal (a phase's mode).
	Modes *Modes `yaml:"modes"`
	// Phases of each trading day, in any order.
	Phases []Phase `yaml:"phases"`
}

// Modes delivers close-only and normal mode to strategies.
type Modes struct {
	// Processes are the strategies told (process patterns); each RUNNING
	// one is signalled or written to.
	Processes config.Patterns `yaml:"processes"`
	// Via is signal (supervisord's signalProcess), stdin (a line through
	// sendProcessStdin) or command.
	Via string `yaml:"via"`
	// CloseOnly and Normal are the signal names (via signal: USR1, HUP,
	// ...) or the lines written (via stdin; a newline is added).
	CloseOnly string `yaml:"close_only"`
	Normal    string `yaml:"normal"`
	// CloseOnlyCommand and NormalCommand are run once (via command), with
	// MARKETCLOCK_MODE and the phase's variables in the environment.
	CloseOnlyCommand []string `yaml:"close_only_command"`
	NormalCommand    []string `yaml:"normal_command"`
	// Timeout bounds a command (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// Mode names.
const (
	ModeCloseOnly = "close_only"
	ModeNormal    = "normal"
)

// Ways to deliver a mode.
const (
	ViaSignal  = "signal"
	ViaStdin   = "stdin"
	ViaCommand = "command"
)

// Phase is one step of the trading day.
type Phase struct {
	Name string `yaml:"name"`
	// At is when, relative to the day's session ("open - 15m", "open",
	// "close - 10m", "close + 30m") or at a time of day in the exchange's
	// zone ("16:30"). A close-relative phase follows an early close.
	At string `yaml:"at"`
	// Checks gate a later phase (Requires): all must pass within Within.
	Checks *Checks `yaml:"checks"`
	// Requires names a phase whose checks must have passed today before
	// this one does anything.
	Requires string `yaml:"requires"`
	// Stop and Start are process patterns stopped, then started (through
	// the halt latch: nothing starts while trading is halted).
	Stop  config.Patterns `yaml:"stop"`
	Start config.Patterns `yaml:"start"`
	// Mode is close_only or normal, delivered as Modes says (normal is a
	// start: refused while halted).
	Mode string `yaml:"mode"`
	// Run are commands run last, in order.
	Run []Command `yaml:"run"`
	// Missed: skip (default) or run: whether the phase's commands run
	// when the phase was missed (the listener or the host was down).
	Missed string `yaml:"missed"`
}

// Command is a command a phase runs or a check runs.
type Command struct {
	Name    string        `yaml:"name"` // default the program's base name
	Argv    []string      `yaml:"argv"`
	Timeout time.Duration `yaml:"timeout"` // default 60s
	// WhileHalted: a phase's command that runs while trading is halted
	// (a snapshot, a report). Without it, a halt refuses the command with
	// the phase's starts: it might resume trading.
	WhileHalted bool `yaml:"while_halted"`
}

// Checks are pre-open checks.
type Checks struct {
	// Running are critical programs that must be RUNNING.
	Running config.Patterns `yaml:"running"`
	// Healthy are healthprobe check names that must be healthy on every
	// process they watch (read from healthprobe's status).
	Healthy []string `yaml:"healthy"`
	// Commands must exit 0 (e.g. a position reconciliation).
	Commands []Command `yaml:"commands"`
	// Within is the deadline from the phase's time (default: until the
	// first phase that requires it, else 5m).
	Within time.Duration `yaml:"within"`
	// Retry is the wait before a failed check is tried again within the
	// deadline (default 10s).
	Retry time.Duration `yaml:"retry"`
}

// PhaseTime is a parsed At.
type PhaseTime struct {
	Anchor string         // "open", "close", or "" for a time of day
	Offset time.Duration  // from the anchor
	Clock  calendar.Clock // the time of day when Anchor is ""
}

// String is the expression.
func (p PhaseTime) String() string {
	if p.Anchor == "" {
		return p.Clock.String()
	}
	switch {
	case p.Offset > 0:
		return p.Anchor + " + " + fmtDur(p.Offset)
	case p.Offset < 0:
		return p.Anchor + " - " + fmtDur(-p.Offset)
	}
	return p.Anchor
}

func fmtDur(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}

// On is the instant of the phase on day (false: the day has no session).
func (p PhaseTime) On(day calendar.Day, loc *time.Location) (time.Time, bool) {
	if !day.Trades() {
		return time.Time{}, false
	}
	switch p.Anchor {
	case "open":
		return day.Date.At(day.Open, loc).Add(p.Offset), true
	case "close":
		return day.Date.At(day.Close, loc).Add(p.Offset), true
	}
	return day.Date.At(p.Clock, loc), true
}

// maxOffset bounds an offset from the open or close.
const maxOffset = 12 * time.Hour

// ParsePhaseTime parses "open", "close", "open - 15m", "close + 30m",
// "close+1h30m" or "16:30".
func ParsePhaseTime(s string) (PhaseTime, error) {
	e := strings.TrimSpace(s)
	for _, anchor := range []string{"open", "close"} {
		rest, ok := strings.CutPrefix(e, anchor)
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return PhaseTime{Anchor: anchor}, nil
		}
		sign := time.Duration(1)
		switch rest[0] {
		case '-':
			sign = -1
		case '+':
		default:
			return PhaseTime{}, fmt.Errorf("%q: want %s, %s + DURATION or %s - DURATION", s, anchor, anchor, anchor)
		}
		d, err := time.ParseDuration(strings.TrimSpace(rest[1:]))
		if err != nil || d <= 0 {
			return PhaseTime{}, fmt.Errorf("%q: %q is not a positive duration (15m, 1h30m, 20s)", s, strings.TrimSpace(rest[1:]))
		}
		if d > maxOffset {
			return PhaseTime{}, fmt.Errorf("%q: at most %s from the %s", s, maxOffset, anchor)
		}
		return PhaseTime{Anchor: anchor, Offset: sign * d}, nil
	}
	c, err := calendar.ParseClock(e)
	if err != nil {
		return PhaseTime{}, fmt.Errorf("%q: want open, close, open - 15m, close + 30m or a time of day HH:MM", s)
	}
	return PhaseTime{Clock: c}, nil
}

// Marketclock defaults.
const (
	DefaultWarnDays     = 60
	DefaultLateAfter    = 10 * time.Minute
	DefaultModeTimeout  = 30 * time.Second
	DefaultRunTimeout   = time.Minute
	DefaultChecksWithin = 5 * time.Minute
	DefaultChecksRetry  = 10 * time.Second
)

// WithDefaults fills in the defaults.
func (m Marketclock) WithDefaults() Marketclock {
	m.Exchange = strings.ToUpper(strings.TrimSpace(m.Exchange))
	m.WarnDays = cmp.Or(m.WarnDays, DefaultWarnDays)
	m.LateAfter = cmp.Or(m.LateAfter, DefaultLateAfter)
	if m.Modes != nil {
		md := *m.Modes
		md.Timeout = cmp.Or(md.Timeout, DefaultModeTimeout)
		m.Modes = &md
	}
	m.Phases = slices.Clone(m.Phases)
	for i := range m.Phases {
		p := &m.Phases[i]
		p.Missed = cmp.Or(p.Missed, "skip")
		p.Run = commandDefaults(p.Run)
		if p.Checks != nil {
			c := *p.Checks
			c.Commands = commandDefaults(c.Commands)
			c.Retry = cmp.Or(c.Retry, DefaultChecksRetry)
			p.Checks = &c
		}
	}
	return m
}

func commandDefaults(cs []Command) []Command {
	cs = slices.Clone(cs)
	for i := range cs {
		cs[i].Timeout = cmp.Or(cs[i].Timeout, DefaultRunTimeout)
		if cs[i].Name == "" && len(cs[i].Argv) > 0 {
			a := cs[i].Argv[0]
			cs[i].Name = a[strings.LastIndex(a, "/")+1:]
		}
	}
	return cs
}

// Validate checks the section, reads the overlay and checks it against
// the calendar; errors name the YAML path (or the overlay's line).
func (m Marketclock) Validate() error {
	_, _, err := m.Build()
	return err
}

// Build validates the section and returns the exchange's calendar with the
// overlay read, and the phases' parsed times in Phases' order.
func (m Marketclock) Build() (*calendar.Calendar, []PhaseTime, error) {
	var cal *calendar.Calendar
	times := make([]PhaseTime, len(m.Phases))
	const path = "listeners.marketclock"
	var errs []error
	add := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, field, fmt.Sprintf(format, a...)))
	}
	x, err := calendar.Get(m.Exchange)
	if err != nil {
		add("exchange", "%v", err)
	}
	if m.WarnDays < 0 {
		add("warn_days", "%d: want 0 or more", m.WarnDays)
	}
	if m.LateAfter < 0 {
		add("late_after", "%s: want 0 or more", m.LateAfter)
	}
	if x != nil {
		o, err := calendar.LoadOverlay(m.Overlay)
		if err != nil {
			add("overlay", "%v", err)
		} else {
			cal = &calendar.Calendar{X: x, Overlay: o}
			if err := cal.Check(); err != nil {
				add("overlay", "%v", err)
			}
		}
	}
	if len(m.Phases) == 0 {
		add("phases", "at least one phase is required")
	}
	names := map[string]int{}
	usesMode := false
	for i := range m.Phases {
		p := &m.Phases[i]
		f := fmt.Sprintf("phases[%d]", i)
		if p.Name == "" {
			add(f+".name", "required")
		} else if j, dup := names[p.Name]; dup {
			add(f+".name", "%q is also phases[%d]", p.Name, j)
		} else {
			names[p.Name] = i
		}
		if times[i], err = ParsePhaseTime(p.At); err != nil {
			add(f+".at", "%v", err)
		}
		for _, sel := range []struct {
			name string
			p    config.Patterns
		}{{"start", p.Start}, {"stop", p.Stop}} {
			if err := procmatch.CheckAll(path+"."+f+"."+sel.name, sel.p); err != nil {
				errs = append(errs, err)
			}
		}
		switch p.Mode {
		case "":
		case ModeCloseOnly, ModeNormal:
			usesMode = true
		default:
			add(f+".mode", "%q: want close_only or normal", p.Mode)
		}
		if p.Missed != "skip" && p.Missed != "run" {
			add(f+".missed", "%q: want skip or run", p.Missed)
		}
		for j, c := range p.Run {
			if len(c.Argv) == 0 {
				add(fmt.Sprintf("%s.run[%d].argv", f, j), "required")
			}
		}
		if p.Checks != nil {
			errs = append(errs, p.Checks.validate(path+"."+f+".checks")...)
		}
		if len(p.Start)+len(p.Stop)+len(p.Run) == 0 && p.Mode == "" && p.Checks == nil {
			add(f, "does nothing: give it start, stop, mode, run or checks")
		}
	}
	for i, p := range m.Phases {
		if p.Requires == "" {
			continue
		}
		j, ok := names[p.Requires]
		switch {
		case !ok:
			add(fmt.Sprintf("phases[%d].requires", i), "no phase is named %q", p.Requires)
		case m.Phases[j].Checks == nil:
			add(fmt.Sprintf("phases[%d].requires", i), "phase %q has no checks", p.Requires)
		}
	}
	if usesMode {
		if m.Modes == nil {
			add("modes", "a phase sets a mode: say how it reaches the strategies (modes: via, processes, ...)")
		} else {
			errs = append(errs, m.Modes.validate(path+".modes")...)
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return cal, times, nil
}

func (c *Checks) validate(path string) []error {
	var errs []error
	if err := procmatch.CheckAll(path+".running", c.Running); err != nil {
		errs = append(errs, err)
	}
	for j, cmd := range c.Commands {
		if len(cmd.Argv) == 0 {
			errs = append(errs, fmt.Errorf("%s.commands[%d].argv: required", path, j))
		}
	}
	if len(c.Running)+len(c.Healthy)+len(c.Commands) == 0 {
		errs = append(errs, fmt.Errorf("%s: no check: give running, healthy or commands", path))
	}
	if c.Within < 0 || c.Retry < 0 {
		errs = append(errs, fmt.Errorf("%s: within and retry must not be negative", path))
	}
	return errs
}

func (m *Modes) validate(path string) []error {
	var errs []error
	add := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, field, fmt.Sprintf(format, a...)))
	}
	switch m.Via {
	case ViaSignal:
		for _, s := range []struct{ f, v string }{{"close_only", m.CloseOnly}, {"normal", m.Normal}} {
			if _, err := supervisor.ParseSignal(s.v); err != nil {
				add(s.f, "%v", err)
			}
		}
	case ViaStdin:
		if m.CloseOnly == "" || m.Normal == "" {
			add("close_only", "via stdin: close_only and normal are the lines written, both required")
		}
	case ViaCommand:
		if len(m.CloseOnlyCommand) == 0 || len(m.NormalCommand) == 0 {
			add("close_only_command", "via command: close_only_command and normal_command are both required")
		}
	default:
		add("via", "%q: want signal, stdin or command", m.Via)
	}
	if m.Via != ViaCommand {
		if len(m.Processes) == 0 {
			add("processes", "required: the strategies told")
		}
		if err := procmatch.CheckAll(path+".processes", m.Processes); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Lists are the process patterns of the section, by field, for -check.
func (m Marketclock) Lists() map[string][]string {
	out := map[string][]string{}
	for i, p := range m.Phases {
		f := fmt.Sprintf("listeners.marketclock.phases[%d]", i)
		if len(p.Start) > 0 {
			out[f+".start"] = p.Start
		}
		if len(p.Stop) > 0 {
			out[f+".stop"] = p.Stop
		}
		if p.Checks != nil && len(p.Checks.Running) > 0 {
			out[f+".checks.running"] = p.Checks.Running
		}
	}
	if m.Modes != nil && len(m.Modes.Processes) > 0 {
		out["listeners.marketclock.modes.processes"] = m.Modes.Processes
	}
	return out
}

// SessionNames checks the session names a window lists.
func SessionNames(field string, names []string) error { return session.CheckNames(field, names) }
