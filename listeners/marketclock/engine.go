package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/calendar"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/session"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// supervisorAPI is the part of supervisord's API marketclock uses.
type supervisorAPI interface {
	GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error)
	StartProcess(ctx context.Context, name string, wait bool) error
	StopProcess(ctx context.Context, name string, wait bool) error
	SignalProcess(ctx context.Context, name, signal string) error
	SendProcessStdin(ctx context.Context, name, data string) error
}

// phaseStore is where phases are recorded and the session published
// (*state.Store).
type phaseStore interface {
	SavePhase(ctx context.Context, p state.Phase) error
	Phases(ctx context.Context, exchange, since string) ([]state.Phase, error)
	SaveSession(ctx context.Context, tl session.Timeline) error
}

// submitter commits alerts (the alert pipeline).
type submitter interface {
	Submit(ctx context.Context, a *alert.Alert) error
}

// Phase statuses.
const (
	statusChecking = "checking" // its checks run; its gated actions wait
	statusRunning  = "running"  // its actions began (a record found so after a restart: interrupted)
	statusDone     = "done"
	statusFailed   = "failed"  // an action failed
	statusRefused  = "refused" // gated actions refused: checks failed, or trading halted
	statusSkipped  = "skipped" // missed, and nothing of it was due any more
)

// Check verdicts.
const (
	checksRunning = "checking"
	checksPassed  = "passed"
	checksFailed  = "failed"
)

// Step statuses.
const (
	stepStarted = "started"
	stepOK      = "ok"
	stepFailed  = "failed"
	stepRefused = "refused"
	stepSkipped = "skipped"
)

// lookback is how many exchange days back a phase still counts as due
// (a weekend and a holiday of downtime).
const lookback = 4

// Bounds of calls to supervisord.
const (
	startWithin = 2 * time.Minute // startsecs of every program at once
	stopWithin  = 2 * time.Minute // stopwaitsecs
	callWithin  = 10 * time.Second
)

// engine runs the trading day: each step finds the phases due and not
// recorded, and runs them in order, recording each action before and
// after it, so that a phase runs once across restarts.
type engine struct {
	log     zerolog.Logger
	plan    *plan
	sec     sections.Marketclock
	sup     supervisorAPI
	store   func(ctx context.Context) (phaseStore, error)
	alerts  submitter
	latch   halt.Latch // nil: no kill switch configured
	now     func() time.Time
	started time.Time // phases due before it (by more than late_after) were missed
	host    string
	redact  func(string) string
	// healthStatus is healthprobe's status file (checks' healthy).
	healthStatus string
	cmdEnv       []string // the environment commands get (no secrets)
	// kill, in tests, aborts a step after the named step was carried out
	// and before it is recorded (a SIGKILL there).
	kill func(step string) bool
	dead bool // killed: nothing more is recorded or done

	mu        sync.Mutex
	memDone   map[string]bool // occurrences run while the store could not be read
	published time.Time
	warnedDay calendar.Date
	lastErr   string
}

// errKilled aborts a step in tests.
var errKilled = errors.New("killed (test)")

// step does what is due at the engine's now, and says when something is
// next due (zero: not within the days it looked at).
func (e *engine) step(ctx context.Context) (next time.Time, err error) {
	now := e.now()
	loc := e.plan.loc()
	today := calendar.DateIn(now, loc)
	occs := e.plan.between(today.AddDays(-lookback), today.AddDays(1))
	e.calendarWarnings(ctx, now, today)
	st, err := e.store(ctx)
	var recs map[string]state.Phase
	if err == nil {
		e.publish(ctx, st, now)
		recs, err = e.records(ctx, st, today.AddDays(-lookback-1))
	}
	if err != nil {
		e.degraded(ctx, now, occs, err)
		return now.Add(pace), nil // the store is tried again soon
	}
	var due []occurrence
	for _, o := range occs {
		if o.at.After(now) {
			if next.IsZero() || o.at.Before(next) {
				next = o.at
			}
			continue
		}
		if r, ok := recs[recKey(o, e.plan)]; ok && finished(r.Status) {
			continue
		}
		due = append(due, o)
	}
	list := &procList{ctx: ctx, sup: e.sup}
	for i, o := range due {
		missed := e.missed(o)
		var later []occurrence
		if missed {
			for _, l := range due[i+1:] {
				if e.missed(l) {
					later = append(later, l)
				}
			}
		}
		wait, err := e.run(ctx, st, recs, o, missed, later, list)
		if err != nil {
			return next, err
		}
		if wait {
			return now.Add(pace), nil // later phases wait for this one: the day runs in order
		}
	}
	return next, nil
}

// procList reads supervisord's processes once, until an action changes
// them (stale).
type procList struct {
	ctx   context.Context
	sup   supervisorAPI
	procs []supervisor.ProcessInfo
	err   error
	read  bool
}

func (l *procList) get() ([]supervisor.ProcessInfo, error) {
	if !l.read {
		ctx, cancel := context.WithTimeout(l.ctx, callWithin)
		l.procs, l.err = l.sup.GetAllProcessInfo(ctx)
		cancel()
		l.read = true
	}
	return l.procs, l.err
}

// stale makes the next get read supervisord again.
func (l *procList) stale() { l.read = false }

// missed reports whether o fell due before this listener started, by more
// than late_after: the listener (or the host) was down.
func (e *engine) missed(o occurrence) bool {
	return o.at.Before(e.started) && e.started.Sub(o.at) > e.sec.LateAfter
}

func finished(status string) bool {
	switch status {
	case statusDone, statusFailed, statusRefused, statusSkipped:
		return true
	}
	return false
}

func recKey(o occurrence, p *plan) string { return o.day.Date.String() + "/" + o.phase(p).Name }

// records reads the phase records from since on, by day/phase.
func (e *engine) records(ctx context.Context, st phaseStore, since calendar.Date) (map[string]state.Phase, error) {
	list, err := st.Phases(ctx, e.plan.cal.X.Code, since.String())
	if err != nil {
		return nil, err
	}
	out := make(map[string]state.Phase, len(list))
	for _, r := range list {
		out[r.Day+"/"+r.Phase] = r
	}
	return out, nil
}

// publish writes the session timeline once a minute.
func (e *engine) publish(ctx context.Context, st phaseStore, now time.Time) {
	e.mu.Lock()
	fresh := now.Sub(e.published) < time.Minute && !now.Before(e.published)
	e.mu.Unlock()
	if fresh {
		return
	}
	if err := st.SaveSession(ctx, e.plan.timeline(now)); err != nil {
		e.log.Warn().Err(err).Msg("session not published")
		return
	}
	e.mu.Lock()
	e.published = now
	e.mu.Unlock()
}

// degraded runs what is safe while the phase records cannot be read:
// the stops and close-only of phases that just fell due (at most
// late_after ago), once each in this process. Starts, normal mode and
// commands wait for the store: a start may not be repeated blindly, and
// nothing starts when the guard cannot know.
func (e *engine) degraded(ctx context.Context, now time.Time, occs []occurrence, err error) {
	msg := e.redact(err.Error())
	e.mu.Lock()
	if e.memDone == nil {
		e.memDone = map[string]bool{}
	}
	repeat := e.lastErr == msg
	e.lastErr = msg
	e.mu.Unlock()
	if !repeat {
		e.log.Error().Str("error", msg).Msg("phase records unreadable: only stops and close-only run until the store is back")
	}
	for _, o := range occs {
		k := recKey(o, e.plan)
		e.mu.Lock()
		done := e.memDone[k]
		e.mu.Unlock()
		if o.at.After(now) || now.Sub(o.at) > e.sec.LateAfter || done {
			continue
		}
		ph := o.phase(e.plan)
		rec := &state.Phase{Exchange: e.plan.cal.X.Code, Day: o.day.Date.String(), Phase: ph.Name, Due: o.at, Started: now}
		list := &procList{ctx: ctx, sup: e.sup}
		if len(ph.Stop) > 0 {
			e.doProcs(ctx, nil, rec, o, e.stopAction(), ph.Stop, nil, list)
		}
		if ph.Mode == sections.ModeCloseOnly {
			e.doMode(ctx, nil, rec, o, ph.Mode, list)
		}
		e.mu.Lock()
		e.memDone[k] = true
		e.mu.Unlock()
		if len(ph.Start) > 0 || ph.Mode == sections.ModeNormal || len(ph.Run) > 0 {
			e.send(ctx, e.phaseAlert(o, alert.Critical, "phase "+ph.Name+" ran only its stops: the state store is unreadable",
				"starts, normal mode and commands were not run: "+msg, nil))
		}
	}
}

// run carries out occurrence o (its record, if any, in recs). wait says
// that o waits for its checks, and the phases after it with it.
func (e *engine) run(ctx context.Context, st phaseStore, recs map[string]state.Phase, o occurrence, missed bool,
	later []occurrence, list *procList) (wait bool, err error) {
	ph := o.phase(e.plan)
	k := recKey(o, e.plan)
	rec, found := recs[k]
	if !found {
		rec = state.Phase{Exchange: e.plan.cal.X.Code, Day: o.day.Date.String(), Phase: ph.Name, Due: o.at, Started: e.now()}
	}
	save := func() error {
		if e.dead {
			return errKilled
		}
		recs[k] = rec
		if err := st.SavePhase(ctx, rec); err != nil {
			e.log.Error().Err(err).Str("phase", ph.Name).Msg("phase record not written")
			return err
		}
		return nil
	}
	// Its own checks run first, whatever gates on them.
	if ph.Checks != nil && rec.Checks != checksPassed && rec.Checks != checksFailed {
		if err := e.advanceChecks(ctx, &rec, o, list, save); err != nil {
			return true, nil // not recorded: tried again next step
		}
		if rec.Checks == checksRunning {
			return true, nil // the day waits for its checks (until their deadline)
		}
	}
	acts := e.actions(o, missed, later, list)
	gate, gateWhy := e.gate(ctx, recs, o, &rec, save, list)
	if gate == gatePending && acts.gated() {
		if rec.Status == "" {
			rec.Status = statusChecking
			if err := save(); err != nil {
				return true, nil
			}
		}
		return true, nil
	}
	interrupted := rec.Status == statusRunning
	rec.Status = statusRunning
	if missed && rec.Note == "" {
		rec.Note = fmt.Sprintf("missed: due %s, caught up at %s", o.at.In(e.plan.loc()).Format(time.DateTime), e.now().In(e.plan.loc()).Format(time.DateTime))
	}
	if err := save(); err != nil {
		return true, nil // not recorded: not run (it is tried again)
	}
	if interrupted {
		e.log.Warn().Str("phase", ph.Name).Str("day", rec.Day).Msg("phase was interrupted: resuming it; steps already done are not repeated")
	}
	if acts.empty() && ph.Checks == nil {
		rec.Status, rec.Finished = statusSkipped, e.now()
		if rec.Note == "" {
			rec.Note = "nothing to do"
		}
		_ = save()
		return false, nil
	}
	failed, refused := false, false
	// Stops and close-only are safe: they run whatever the gate says.
	if len(acts.stopPatterns) > 0 {
		failed = !e.doProcs(ctx, save, &rec, o, e.stopAction(), acts.stopPatterns, acts.stop, list) || failed
	}
	if acts.mode == sections.ModeCloseOnly {
		failed = !e.doMode(ctx, save, &rec, o, acts.mode, list) || failed
	}
	if e.dead {
		return false, errKilled
	}
	halted, latchErr := e.halted(ctx)
	switch {
	case !acts.gated():
	case gate == gateFailed:
		refused = true
		e.refuse(ctx, save, &rec, acts, "pre-open checks failed: "+gateWhy)
		// The checks' own alert paged (critical); this records the refusal.
		e.send(ctx, e.phaseAlert(o, alert.Warning, fmt.Sprintf("phase %s refused: %s", ph.Name, gateWhy),
			"not started: "+acts.describeGated(), map[string]string{"checks": gateWhy}))
	case halted:
		refused = true
		why := "trading is halted"
		if latchErr != nil {
			why = "the halt latch cannot be read (" + e.redact(latchErr.Error()) + "): treated as halted"
		}
		var anyway []sections.Command
		acts.run, anyway = splitWhileHalted(acts.run)
		if acts.gated() {
			e.refuse(ctx, save, &rec, acts, why)
			e.send(ctx, e.phaseAlert(o, alert.Warning, fmt.Sprintf("phase %s: nothing started: %s", ph.Name, why),
				"not started: "+acts.describeGated(), nil))
		} else {
			refused = false
		}
		for _, c := range anyway {
			failed = !e.doRun(ctx, save, &rec, o, c) || failed
		}
	default:
		if len(acts.startPatterns) > 0 {
			failed = !e.doProcs(ctx, save, &rec, o, e.startAction(), acts.startPatterns, acts.start, list) || failed
			if e.dead {
				return false, errKilled
			}
		}
		if acts.mode == sections.ModeNormal {
			failed = !e.doMode(ctx, save, &rec, o, acts.mode, list) || failed
		}
		for _, c := range acts.run {
			if e.dead {
				break
			}
			failed = !e.doRun(ctx, save, &rec, o, c) || failed
		}
	}
	if e.dead {
		return false, errKilled
	}
	for _, c := range acts.skippedRuns {
		rec.SetStep(state.PhaseStep{Name: "run " + c.Name, Status: stepSkipped, Detail: "the phase was missed (missed: skip)", At: e.now()})
	}
	rec.Finished = e.now()
	switch {
	case failed:
		rec.Status = statusFailed
	case refused:
		rec.Status = statusRefused
	default:
		rec.Status = statusDone
	}
	_ = save()
	e.log.Info().Str("phase", ph.Name).Str("day", rec.Day).Str("status", rec.Status).Bool("missed", missed).Msg("phase")
	return false, nil
}

// killed reports, in tests, a simulated SIGKILL right after step was
// carried out: from then on nothing is recorded.
func (e *engine) killed(step string) bool {
	if e.kill != nil && !e.dead && e.kill(step) {
		e.dead = true
	}
	return e.dead
}

// halted reads the latch; an unreadable one counts as set.
func (e *engine) halted(ctx context.Context) (bool, error) {
	if e.latch == nil {
		return false, nil
	}
	h, _, err := halt.Halted(ctx, e.latch)
	return h, err
}

// splitWhileHalted parts the commands that run while trading is halted
// from the others.
func splitWhileHalted(cs []sections.Command) (others, anyway []sections.Command) {
	for _, c := range cs {
		if c.WhileHalted {
			anyway = append(anyway, c)
		} else {
			others = append(others, c)
		}
	}
	return others, anyway
}

// actions is what an occurrence does, after the catch-up rules.
type actions struct {
	stopPatterns, startPatterns []string
	stop, start                 []string // resolved process names (nil: resolve at run time)
	mode                        string
	run                         []sections.Command
	skippedRuns                 []sections.Command
}

func (a actions) gated() bool {
	return len(a.startPatterns) > 0 || a.mode == sections.ModeNormal || len(a.run) > 0
}
func (a actions) empty() bool { return len(a.stopPatterns) == 0 && a.mode == "" && !a.gated() }

func (a actions) describeGated() string {
	var parts []string
	if len(a.startPatterns) > 0 {
		parts = append(parts, "start "+strings.Join(a.startPatterns, ","))
	}
	if a.mode == sections.ModeNormal {
		parts = append(parts, "normal mode")
	}
	for _, c := range a.run {
		parts = append(parts, "run "+c.Name)
	}
	return strings.Join(parts, "; ")
}

// actions applies the catch-up rules to a missed occurrence: a start of a
// process a later missed phase stops is dropped (and a stop of one it
// starts), a mode a later missed phase changes is dropped, and commands
// run only with missed: run.
func (e *engine) actions(o occurrence, missed bool, later []occurrence, list *procList) actions {
	ph := o.phase(e.plan)
	a := actions{stopPatterns: ph.Stop, startPatterns: ph.Start, mode: ph.Mode, run: ph.Run}
	if !missed {
		return a
	}
	if ph.Missed != "run" {
		a.skippedRuns, a.run = a.run, nil
	}
	var laterStart, laterStop []string
	laterMode := false
	for _, l := range later {
		lp := l.phase(e.plan)
		laterStart = append(laterStart, lp.Start...)
		laterStop = append(laterStop, lp.Stop...)
		laterMode = laterMode || lp.Mode != ""
	}
	if laterMode || o.day.Date.Before(calendar.DateIn(e.now(), e.plan.loc())) {
		a.mode = "" // changed again later, or a past day's: that day is over
	}
	if len(laterStart)+len(laterStop) == 0 {
		return a
	}
	procs, err := list.get()
	if err != nil {
		return a // resolved again at run time; the catch-up cannot net without the list
	}
	a.stop = netted(procs, a.stopPatterns, laterStart)
	a.start = netted(procs, a.startPatterns, laterStop)
	if len(a.stop) == 0 {
		a.stopPatterns = nil
	}
	if len(a.start) == 0 {
		a.startPatterns = nil
	}
	return a
}

// netted is the processes patterns select that none of except selects.
func netted(procs []supervisor.ProcessInfo, patterns, except []string) []string {
	var out []string
	for _, p := range procs {
		if procmatch.Any(patterns, p.GroupName(), p.Name) && !procmatch.Any(except, p.GroupName(), p.Name) {
			out = append(out, p.FullName())
		}
	}
	return out
}

// resolve is the processes patterns select.
func resolve(procs []supervisor.ProcessInfo, patterns []string) []string {
	return netted(procs, patterns, nil)
}

// refuse records the gated actions refused, with why.
func (e *engine) refuse(ctx context.Context, save func() error, rec *state.Phase, a actions, why string) {
	now := e.now()
	if len(a.startPatterns) > 0 {
		rec.SetStep(state.PhaseStep{Name: "start " + strings.Join(a.startPatterns, ","), Status: stepRefused, Detail: why, At: now})
	}
	if a.mode == sections.ModeNormal {
		rec.SetStep(state.PhaseStep{Name: "mode normal", Status: stepRefused, Detail: why, At: now})
	}
	for _, c := range a.run {
		rec.SetStep(state.PhaseStep{Name: "run " + c.Name, Status: stepRefused, Detail: why, At: now})
	}
	e.log.Warn().Str("phase", rec.Phase).Str("why", why).Msg("refused: " + a.describeGated())
	_ = save()
}

// Gate verdicts.
const (
	gateOpen = iota
	gatePending
	gateFailed
)

// gate is the verdict of the checks o's gated actions wait for: its own,
// or those of the phase it requires on the same day.
func (e *engine) gate(ctx context.Context, recs map[string]state.Phase, o occurrence, rec *state.Phase, save func() error,
	list *procList) (int, string) {
	ph := o.phase(e.plan)
	verdict := func(r state.Phase) (int, string) {
		switch r.Checks {
		case checksPassed:
			return gateOpen, ""
		case checksFailed:
			return gateFailed, failedChecks(r)
		}
		return gatePending, ""
	}
	if ph.Checks != nil {
		return verdict(*rec)
	}
	if ph.Requires == "" {
		return gateOpen, ""
	}
	for i, p := range e.plan.phases {
		if p.Name != ph.Requires {
			continue
		}
		req := occurrence{day: o.day, index: i}
		req.at, _ = e.plan.times[i].On(o.day, e.plan.loc())
		k := recKey(req, e.plan)
		r, ok := recs[k]
		if !ok || r.Checks == "" || r.Checks == checksRunning {
			// Not begun (scheduled after this phase, or never due): begin
			// it now; or go on with it.
			if !ok {
				r = state.Phase{Exchange: e.plan.cal.X.Code, Day: o.day.Date.String(), Phase: p.Name, Due: req.at, Started: e.now()}
			}
			saveReq := func() error { recs[k] = r; return e.savePhase(ctx, r) }
			if err := e.advanceChecks(ctx, &r, req, list, saveReq); err != nil {
				return gatePending, ""
			}
		}
		return verdict(r)
	}
	return gateFailed, "required phase " + ph.Requires + " does not exist"
}

func (e *engine) savePhase(ctx context.Context, r state.Phase) error {
	st, err := e.store(ctx)
	if err != nil {
		return err
	}
	return st.SavePhase(ctx, r)
}

func failedChecks(r state.Phase) string {
	var out []string
	for _, s := range r.Steps {
		if strings.HasPrefix(s.Name, "check ") && s.Status == stepFailed {
			out = append(out, s.Name+": "+s.Detail)
		}
	}
	if len(out) == 0 {
		return "the checks failed"
	}
	return strings.Join(out, "; ")
}

// calendarWarnings alerts, once per exchange day, when the calendar's
// verified data ends within warn_days, and when the overlay says what the
// library already says, or says otherwise.
func (e *engine) calendarWarnings(ctx context.Context, now time.Time, today calendar.Date) {
	e.mu.Lock()
	done := e.warnedDay == today
	e.warnedDay = today
	e.mu.Unlock()
	if done {
		return
	}
	x := e.plan.cal.X
	if left := x.DataEnds().Sub(today); left < e.sec.WarnDays {
		summary := fmt.Sprintf("calendar data for %s ends %s (in %d days): upgrade superguard, or write the coming holidays in the overlay", x.Code, x.DataEnds(), left)
		if left < 0 {
			summary = fmt.Sprintf("calendar data for %s ended %s: holidays after it come from rules only: upgrade superguard or check them in the overlay", x.Code, x.DataEnds())
		}
		e.log.Warn().Msg(summary)
		e.send(ctx, &alert.Alert{Key: alert.Key(e.host, "marketclock:"+x.Code, alert.CondCalendar) + "/data", Kind: alert.Trigger,
			Host: e.host, Group: "marketclock", Program: x.Code, Condition: alert.CondCalendar, Severity: alert.Warning,
			Summary: summary, Listener: listenerName, Time: now, SourceID: "marketclock/calendar/" + today.String(),
			Details: map[string]string{"exchange": x.Code, "data_ends": x.DataEnds().String()}})
	}
	if w := e.plan.cal.Warnings(today); len(w) > 0 {
		e.log.Warn().Strs("overlay", w).Msg("the overlay disagrees with the calendar library")
		e.send(ctx, &alert.Alert{Key: alert.Key(e.host, "marketclock:"+x.Code, alert.CondCalendar) + "/overlay", Kind: alert.Trigger,
			Host: e.host, Group: "marketclock", Program: x.Code, Condition: alert.CondCalendar, Severity: alert.Warning,
			Summary: fmt.Sprintf("%d overlay line(s) disagree with the %s calendar", len(w), x.Code), Listener: listenerName, Time: now,
			SourceID: "marketclock/overlay/" + today.String(), Details: map[string]string{"overlay": strings.Join(w, "\n")}})
	}
}

// phaseAlert is an alert about occurrence o.
func (e *engine) phaseAlert(o occurrence, sev alert.Severity, summary, action string, details map[string]string) *alert.Alert {
	ph := o.phase(e.plan)
	d := map[string]string{"exchange": e.plan.cal.X.Code, "day": o.day.Date.String(), "day_kind": string(o.day.Kind),
		"phase": ph.Name, "due": o.at.In(e.plan.loc()).Format(time.DateTime + " MST")}
	for k, v := range details {
		d[k] = e.redact(v)
	}
	return &alert.Alert{Key: alert.Key(e.host, "marketclock:"+ph.Name, alert.CondSchedule) + "/" + o.day.Date.String(),
		Kind: alert.Trigger, Host: e.host, Group: "marketclock", Program: ph.Name, Condition: alert.CondSchedule,
		Severity: sev, Summary: e.redact(summary), Action: e.redact(action), Details: d, Listener: listenerName, Time: e.now(),
		SourceID: fmt.Sprintf("marketclock/%s/%s/%s/%s", e.plan.cal.X.Code, o.day.Date, ph.Name, summary)}
}

func (e *engine) send(ctx context.Context, a *alert.Alert) {
	if e.alerts == nil {
		return
	}
	if err := e.alerts.Submit(ctx, a); err != nil {
		e.log.Error().Err(err).Str("key", a.Key).Str("summary", a.Summary).Msg("alert not committed: it is in this log only")
	}
}

// sessionAt is the session state at t ("unknown" outside the timeline).
func (e *engine) sessionAt(t time.Time) string {
	tl := e.plan.timeline(t)
	if s, ok := tl.At(t); ok {
		return string(s.State)
	}
	return "unknown"
}
