package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// listenerName is crashpager's name in alerts, logs and heartbeats.
const listenerName = "crashpager"

// stateChange is a PROCESS_STATE_* event as the crash logic needs it.
type stateChange struct {
	source         string // event identity: alert.SourceID
	group, process string
	from, to       string // state names, e.g. "RUNNING", "EXITED"
	expected       bool   // EXITED only
	pid, tries     int
}

// crashes holds the crash-tracking state of every watched process. Its
// methods run on the protocol loop's goroutine, between reading an event
// and acknowledging it, so they only touch memory, the local state store
// (through Submitter and Heartbeats) and supervisord with a short deadline.
type crashes struct {
	cfg       Config
	host      string
	self      string // crashpager's own process name, ignored
	instance  string // supervisord instance identity, part of every event's SourceID
	programs  procmatch.Set
	listeners procmatch.Set
	sub       alert.Submitter
	sv        Supervisor // nil without a supervisord URL: alerts carry less detail
	hb        Heartbeats // nil disables heartbeats
	now       func() time.Time
	log       zerolog.Logger

	mu    sync.Mutex
	procs map[string]*proc // by "group:name"
}

// proc is what crashpager knows about one process.
type proc struct {
	group, name  string
	listener     bool      // a watched superguard listener
	state        string    // last state seen
	runningSince time.Time // zero when not RUNNING (or not known to be)
	exits        exitWindow
	open         map[alert.Condition]bool // incidents raised and not yet resolved
	fatalStart   time.Time                // start time of the FATAL episode reported by reconciliation
	late         bool                     // heartbeat overdue (listeners only)
	traceID      string                   // shared by the alerts and log lines of one episode
}

// crashesDeps are what crashes is built from besides its Config.
type crashesDeps struct {
	Host       string           // host name in alerts
	Self       string           // crashpager's own process name ($SUPERVISOR_PROCESS_NAME)
	Instance   string           // supervisord instance identity (eventlistener.Options.Instance)
	Submitter  alert.Submitter  // required
	Supervisor Supervisor       // optional
	Heartbeats Heartbeats       // optional
	Now        func() time.Time // default time.Now
	Logger     zerolog.Logger
}

// newCrashes builds the crash logic from a validated Config.
func newCrashes(cfg Config, d crashesDeps) (*crashes, error) {
	programs, err := procmatch.New(cfg.Include, cfg.Exclude)
	if err != nil {
		return nil, err
	}
	listeners, err := procmatch.New(cfg.Listeners, nil)
	if err != nil {
		return nil, err
	}
	if d.Submitter == nil {
		return nil, errors.New("crashpager: no alert Submitter")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if len(cfg.Listeners) == 0 {
		listeners = procmatch.None() // watch no listener
	}
	return &crashes{
		cfg: cfg, host: d.Host, self: d.Self, instance: d.Instance, programs: programs, listeners: listeners,
		sub: d.Submitter, sv: d.Supervisor, hb: d.Heartbeats, now: d.Now,
		log: d.Logger, procs: map[string]*proc{},
	}, nil
}

func (p *proc) fullName() string { return p.group + ":" + p.name }

func (c *crashes) proc(group, name string) *proc {
	key := group + ":" + name
	p := c.procs[key]
	if p == nil {
		p = &proc{group: group, name: name, listener: c.listeners.Match(group, name),
			open: map[alert.Condition]bool{}}
		c.procs[key] = p
	}
	return p
}

// watched reports whether events about group:name concern crashpager.
func (c *crashes) watched(group, name string) bool {
	if name == c.self && c.self != "" {
		return false
	}
	return c.listeners.Match(group, name) || c.programs.Match(group, name)
}

// handleState applies one process state change and commits the alerts it
// raises. Alerts that cannot be committed are logged by the pipeline and
// here; the event is still acknowledged (a broken store must not stall the
// protocol loop).
func (c *crashes) handleState(ctx context.Context, ev stateChange) {
	if !c.watched(ev.group, ev.process) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	p := c.proc(ev.group, ev.process)
	p.state = ev.to
	switch ev.to {
	case "RUNNING":
		p.runningSince = now
		return
	case "EXITED":
		up := uptime(p.runningSince, now)
		p.runningSince = time.Time{}
		switch {
		case p.listener:
			c.listenerDown(ctx, p, ev, up)
		case !ev.expected:
			c.crashed(ctx, p, ev, up, now)
		}
	case "FATAL":
		p.runningSince = time.Time{}
		if p.listener {
			c.listenerDown(ctx, p, ev, 0)
		} else {
			c.fatal(ctx, p, ev)
		}
	default: // STARTING, BACKOFF, STOPPING, STOPPED, UNKNOWN
		p.runningSince = time.Time{}
	}
}

// crashed handles an unexpected EXITED: a warning every time (the pipeline
// aggregates them per program), and a critical spree alert once more than
// SpreeThreshold exits fall within SpreeWindow.
func (c *crashes) crashed(ctx context.Context, p *proc, ev stateChange, up time.Duration, now time.Time) {
	n := p.exits.add(ev.source, now, c.cfg.SpreeWindow)
	in := c.inspect(ctx, p, true)
	d := c.baseDetails(ev, in)
	if up > 0 {
		d["uptime"] = up.Round(time.Millisecond).String()
	}
	d["restarts_in_window"] = strconv.Itoa(n)
	d["window"] = c.cfg.SpreeWindow.String()
	how := "exited unexpectedly"
	switch {
	case in.exitMsg != "":
		how += " (" + in.exitMsg + ")"
	case d["exit_status"] != "":
		how += " (exit status " + d["exit_status"] + ")"
	}
	c.submit(ctx, p, c.newAlert(ev.source, p, alert.CondExited, alert.Warning, alert.Trigger,
		fmt.Sprintf("%s %s", p.fullName(), how), d, in.tail))
	if n <= c.cfg.SpreeThreshold {
		return
	}
	// The spree incident counts every exit that made it: the exits of the
	// window not yet reported as part of it are submitted under their own
	// events' ids (idempotent), so the incident's occurrence count, and the
	// counts its notifications carry, add up to the exits.
	sd := maps.Clone(d) // d is never nil: baseDetails makes it
	sd["threshold"] = strconv.Itoa(c.cfg.SpreeThreshold)
	summary := fmt.Sprintf("%s restart spree: %d unexpected exits in %s", p.fullName(), n, c.cfg.SpreeWindow)
	for i := range p.exits.exits {
		m := &p.exits.exits[i]
		if m.inSpree {
			continue
		}
		m.inSpree = c.submit(ctx, p, c.newAlert(m.source, p, alert.CondSpree, alert.Critical, alert.Trigger, summary, sd, in.tail))
	}
}

// fatal handles FATAL: supervisord gave up starting the program.
func (c *crashes) fatal(ctx context.Context, p *proc, ev stateChange) {
	in := c.inspect(ctx, p, true)
	d := c.baseDetails(ev, in)
	if in.info != nil && in.info.SpawnErr != "" {
		d["spawn_error"] = in.info.SpawnErr
	}
	c.submit(ctx, p, c.newAlert(ev.source, p, alert.CondFatal, alert.Critical, alert.Trigger,
		fmt.Sprintf("%s is FATAL: supervisord gave up starting it", p.fullName()), d, in.tail))
}

// listenerDown pages when a watched superguard listener exits or goes FATAL:
// until supervisord restarts it, whatever it guards is unguarded.
func (c *crashes) listenerDown(ctx context.Context, p *proc, ev stateChange, up time.Duration) {
	in := c.inspect(ctx, p, true)
	d := c.baseDetails(ev, in)
	if up > 0 {
		d["uptime"] = up.Round(time.Millisecond).String()
	}
	what := "exited"
	if ev.to == "FATAL" {
		what = "is FATAL"
	} else if in.exitMsg != "" {
		what += " (" + in.exitMsg + ")"
	}
	c.submit(ctx, p, c.newAlert(ev.source, p, alert.CondListener, alert.Critical, alert.Trigger,
		fmt.Sprintf("superguard listener %s %s", p.fullName(), what), d, in.tail))
}

// inspect asks supervisord about p within the configured deadline and logs
// what it could not get at debug level (the alert goes out without it).
func (c *crashes) inspect(ctx context.Context, p *proc, wantExit bool) inspection {
	in := inspect(ctx, c.sv, p.group, p.name, c.cfg.TailBytes, wantExit, c.cfg.TailTimeout)
	if len(in.errs) > 0 {
		c.log.Debug().Str("process", p.fullName()).Strs("errors", in.errs).Msg("alert details incomplete")
	}
	return in
}

// baseDetails returns the details every process alert carries.
func (c *crashes) baseDetails(ev stateChange, in inspection) map[string]string {
	d := map[string]string{"from_state": ev.from, "to_state": ev.to}
	if ev.pid > 0 {
		d["pid"] = strconv.Itoa(ev.pid)
	}
	if ev.tries > 0 {
		d["tries"] = strconv.Itoa(ev.tries)
	}
	if ev.to == "EXITED" {
		d["expected"] = strconv.FormatBool(ev.expected)
	}
	switch {
	case in.info != nil && in.info.State == supervisor.ProcessExited:
		d["exit_status"] = strconv.Itoa(in.info.ExitStatus)
	case in.exitMsg != "":
		if n, ok := exitStatusOf(in.exitMsg); ok {
			d["exit_status"] = strconv.Itoa(n)
		}
	}
	if in.exitMsg != "" {
		d["exit"] = in.exitMsg
	}
	if in.info != nil {
		d["state_now"] = in.info.State.String()
		if in.info.Description != "" {
			d["description"] = in.info.Description
		}
	}
	return d
}

// newAlert builds an alert about p.
func (c *crashes) newAlert(source string, p *proc, cond alert.Condition, sev alert.Severity, kind alert.Kind,
	summary string, details map[string]string, tail string) *alert.Alert {
	if p.traceID == "" {
		p.traceID = alert.NewTraceID()
	}
	return &alert.Alert{
		Key:       alert.Key(c.host, p.fullName(), cond),
		Kind:      kind,
		Host:      c.host,
		Group:     p.group,
		Program:   p.name,
		Condition: cond,
		Severity:  sev,
		Summary:   summary,
		Details:   details,
		Runbook:   c.cfg.Runbook,
		LogTail:   tail,
		Listener:  listenerName,
		TraceID:   p.traceID,
		Time:      c.now(),
		SourceID:  source,
	}
}

// submit commits a, and records the incident as open (or closed) in memory
// once the commit succeeded.
func (c *crashes) submit(ctx context.Context, p *proc, a *alert.Alert) bool {
	log := c.log.With().Str("key", a.Key).Str("kind", string(a.Kind)).Str("trace_id", a.TraceID).Logger()
	if err := c.sub.Submit(ctx, a); err != nil {
		log.Error().Err(err).Str("summary", a.Summary).Msg("alert not committed")
		return false
	}
	if a.Kind == alert.Trigger {
		p.open[a.Condition] = true
	} else {
		delete(p.open, a.Condition)
	}
	log.Info().Str("severity", a.Severity.String()).Str("summary", a.Summary).Msg("alert committed")
	return true
}

// tick runs the periodic work on a TICK event: resolve the incidents of
// processes that have been RUNNING for StableFor, and report listeners
// whose heartbeat is overdue.
func (c *crashes) tick(ctx context.Context, source string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.hb != nil {
		c.checkHeartbeats(ctx, source, now)
	}
	for _, p := range c.procs {
		p.exits.prune(now, c.cfg.SpreeWindow)
		if len(p.open) == 0 {
			continue
		}
		c.maybeResolve(ctx, source, p, now)
	}
}

// maybeResolve resolves every open incident of p once it has been RUNNING
// for StableFor (and, for a listener, its heartbeat is not overdue).
func (c *crashes) maybeResolve(ctx context.Context, source string, p *proc, now time.Time) {
	if p.late {
		return
	}
	var up time.Duration
	switch {
	case !p.runningSince.IsZero():
		up = now.Sub(p.runningSince)
		if up < c.cfg.StableFor {
			return
		}
	case p.state != "":
		return // down, or starting
	default:
		// Never seen changing state: the incident came from a late
		// heartbeat alone, and the heartbeat is back.
	}
	up = up.Round(time.Second)
	for _, cond := range []alert.Condition{alert.CondExited, alert.CondSpree, alert.CondFatal, alert.CondListener} {
		if !p.open[cond] {
			continue
		}
		d := map[string]string{"stable_for": c.cfg.StableFor.String()}
		summary := fmt.Sprintf("%s is healthy again", p.fullName())
		if up > 0 {
			d["to_state"], d["uptime"] = "RUNNING", up.String()
			summary = fmt.Sprintf("%s is running again (up %s)", p.fullName(), up)
		}
		c.submit(ctx, p, c.newAlert(source, p, cond, severityOf(cond), alert.Resolve, summary, d, ""))
	}
	if len(p.open) == 0 {
		p.exits.reset()
		p.traceID = ""
	}
}

// severityOf is the severity crashpager raises cond with; a resolve carries
// the same one so that routing sends it where the trigger went.
func severityOf(cond alert.Condition) alert.Severity {
	if cond == alert.CondExited {
		return alert.Warning
	}
	return alert.Critical
}

// uptime returns how long a process that started at since ran until now,
// or 0 when its start is unknown.
func uptime(since, now time.Time) time.Duration {
	if since.IsZero() || now.Before(since) {
		return 0
	}
	return now.Sub(since)
}
