package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/superguard/superguard/pkg/session"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/runone"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/probe"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/proctable"
)

// check is a configured check, compiled.
type check struct {
	cfg    sections.ProbeCheck
	sel    procmatch.Set
	prober probe.Prober // nil for a heartbeat check
	cond   alert.Condition
}

// kind names the check's kind for status and alerts.
func (c *check) kind() string {
	if c.prober == nil {
		return "heartbeat/" + c.cfg.Heartbeat.Channel
	}
	return c.prober.Kind()
}

// compileChecks turns the section's checks into probers sharing one HTTP
// client.
func compileChecks(sec sections.Healthprobe, client *http.Client, now func() time.Time) ([]*check, error) {
	var out []*check
	for _, c := range sec.Checks {
		sel, err := procmatch.New(c.Processes, nil)
		if err != nil {
			return nil, err
		}
		ch := &check{cfg: c, sel: sel, cond: alert.CondHealth}
		switch {
		case c.HTTP != nil:
			h := &probe.HTTP{URL: c.HTTP.URL, Method: c.HTTP.Method, Headers: c.HTTP.Headers, Statuses: c.HTTP.Status,
				BodyContains: c.HTTP.BodyContains, Client: client, Now: now}
			if c.HTTP.BodyRegex != "" {
				h.BodyRegex = regexp.MustCompile(c.HTTP.BodyRegex) // validated
			}
			for _, src := range c.HTTP.Assert {
				a, err := probe.Compile(src)
				if err != nil {
					return nil, err
				}
				h.Asserts = append(h.Asserts, a)
			}
			if ts := c.HTTP.Timestamp; ts != nil {
				if h.Stale, err = probe.CompileStale(probe.Stale{Field: ts.Field, Format: probe.TimeFormat(ts.Format), MaxAge: ts.MaxAge}); err != nil {
					return nil, err
				}
				ch.cond = alert.CondStale
			}
			ch.prober = h
		case c.TCP != nil:
			ch.prober = &probe.TCP{Address: c.TCP.Address}
		case c.Command != nil:
			ch.prober = &probe.Command{Argv: c.Command.Argv, Env: hookEnv()}
		case c.File != nil:
			ch.prober, ch.cond = &probe.File{Path: c.File.Path, MaxAge: c.File.MaxAge, Now: now}, alert.CondStale
		case c.Heartbeat != nil:
			ch.cond = alert.CondHeartbeat
		}
		out = append(out, ch)
	}
	return out, nil
}

// State is where a target stands, for status and for its next step.
type State string

// Target states.
const (
	StateStarting   State = "starting"       // in its start-up grace or cool-down
	StateHealthy    State = "healthy"        // passing
	StateFailing    State = "failing"        // failures counted, threshold not reached
	StateUnhealthy  State = "unhealthy"      // threshold reached: alerted (policy alert), or waiting for the next action
	StateRestarting State = "restarting"     // a restart in progress
	StateBackoff    State = "backing off"    // a restart is due once the back-off passes
	StateSpent      State = "budget spent"   // no more restarts in the window
	StateHaltAsked  State = "halt requested" // policy halt, or a critical program's budget spent
	StatePaused     State = "paused by halt" // trading is halted: not probed, not restarted
	StateOutside    State = "outside window" // outside its active windows
	StateNotRunning State = "not running"    // stopped or exited: not watched
)

// target is one check applied to one process.
type target struct {
	check *check
	proc  probe.Process
	start time.Time // the incarnation's start, from supervisord
	// watched is when this healthprobe began watching the target: a
	// heartbeat's TTL never counts from before it (after a healthprobe
	// restart, every program gets a full TTL to be heard again).
	watched time.Time

	state   State
	history []bool // the last Within results, oldest first (true: passed)
	passes  int    // consecutive passes
	open    bool   // an alert is open (threshold reached, not yet recovered)
	probing bool   // a probe is in flight
	acting  bool   // an action is in flight
	next    time.Time
	cool    time.Time // no counting before this (after a restart)

	last       probe.Result
	lastAction string
	actionAt   time.Time
	budget     governor.Decision
	seq        int // alerts sent, for their source ids
	gen        int // incarnations seen: a result of an earlier one is dropped
}

// key identifies a target.
func (t *target) key() string { return t.check.cfg.Name + "|" + t.proc.FullName() }

// failures counts the failures in the history.
func (t *target) failures() int {
	n := 0
	for _, ok := range t.history {
		if !ok {
			n++
		}
	}
	return n
}

// reset starts the counters over, for a new incarnation of the process.
func (t *target) reset(start time.Time) {
	t.start, t.history, t.passes, t.next = start, nil, 0, time.Time{}
	t.state = StateStarting
	t.gen++
}

// record adds a result; it returns whether the check just failed (the
// threshold reached) and whether it just recovered.
func (t *target) record(r probe.Result) (failed, recovered bool) {
	cfg := t.check.cfg
	t.last = r
	t.history = append(t.history, r.OK)
	if len(t.history) > cfg.Within {
		t.history = t.history[len(t.history)-cfg.Within:]
	}
	if r.OK {
		t.passes++
	} else {
		t.passes = 0
	}
	switch {
	case t.open && t.passes >= cfg.Successes:
		t.open, t.history = false, nil
		t.state = StateHealthy
		return false, true
	case t.open:
		// Still failing after an action: back to unhealthy once the
		// threshold is reached again (a back-off, a spent budget or a
		// pause keeps its state until it ends).
		switch {
		case t.state == StateBackoff || t.state == StateSpent || t.state == StatePaused || t.state == StateHaltAsked:
		case t.failures() >= cfg.Failures:
			t.state = StateUnhealthy
		default:
			t.state = StateFailing
		}
		return false, false
	case t.failures() >= cfg.Failures:
		t.open = true
		t.state = StateUnhealthy
		return true, false
	case !r.OK:
		t.state = StateFailing
	default:
		t.state = StateHealthy
	}
	return false, false
}

// beatState is what healthprobe heard from a process on its heartbeat
// channels.
type beatState struct {
	pid     int
	last    time.Time     // last heartbeat
	ready   bool          // READY=1 (notify) since the process started
	ttl     time.Duration // WATCHDOG_USEC= override (0: the check's)
	status  string        // STATUS= text
	trigger string        // WATCHDOG=trigger: the program asked for a restart
}

// beat is a process's beatState with its own lock: a heartbeat is
// recorded (and acknowledged) without waiting for a round that holds the
// engine's lock.
type beat struct {
	mu sync.Mutex
	s  beatState
}

// get returns the state.
func (b *beat) get() beatState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s
}

// update changes the state with fn.
func (b *beat) update(fn func(s *beatState)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fn(&b.s)
}

// engine runs the checks.
type engine struct {
	log    zerolog.Logger
	sup    governor.Supervisor
	alerts alert.Submitter
	gov    *governor.Governor
	latch  halt.Latch // nil: no kill switch configured
	halted []string   // haltguard's targets: paused while halted
	checks []*check
	host   string
	redact func(string) string
	sem    chan struct{}
	now    func() time.Time
	status string // status snapshot file ("": none)
	notify *notifier
	// session reads marketclock's published session of an exchange (nil:
	// none; checks limited to sessions stay active).
	session func(ctx context.Context, exchange string) (*session.Timeline, error)

	bg context.Context
	wg sync.WaitGroup

	mu       sync.Mutex
	sessions map[string]*session.Timeline // this round's, by exchange
	targets  map[string]*target
	bmu      sync.Mutex
	beats    map[string]*beat // by "group:name", under bmu
	table    *proctable.Table // supervisord's processes, kept by events between reads
	latched  bool
	latchErr error
	supErr   error
	rounds   int64
	roundAt  time.Time

	round runone.Runner
}

// actor carries out restarts and halt requests through e.gov.
func (e *engine) actor() *governor.Actor {
	return &governor.Actor{Sup: e.sup, Gov: e.gov, By: listenerName, Log: e.log, Redact: e.redact}
}

// isHaltTarget reports whether p is stopped by a halt (paused while halted).
func (e *engine) isHaltTarget(p probe.Process) bool {
	return procmatch.Any(e.halted, p.Group, p.Name)
}

// beatOf returns the heartbeat record of process, creating it.
func (e *engine) beatOf(full string) *beat {
	e.bmu.Lock()
	defer e.bmu.Unlock()
	b := e.beats[full]
	if b == nil {
		b = &beat{}
		e.beats[full] = b
	}
	return b
}

// heartbeat records a heartbeat of group:name (pid 0: any incarnation).
func (e *engine) heartbeat(full string, pid int, at time.Time) {
	e.beatOf(full).update(func(s *beatState) {
		if pid == 0 || s.pid == 0 || pid == s.pid { // not a late line from an earlier incarnation
			s.last = at
		}
	})
}

// sortedTargets returns the targets in a stable order.
func (e *engine) sortedTargets() []*target {
	out := make([]*target, 0, len(e.targets))
	for _, t := range e.targets {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *target) int {
		return cmp.Or(cmp.Compare(a.check.cfg.Name, b.check.cfg.Name), cmp.Compare(a.proc.FullName(), b.proc.FullName()))
	})
	return out
}

// describe is a one-line account of a failing result.
func describe(t *target) string {
	return fmt.Sprintf("%s %s on %s: %s", t.check.kind(), t.check.cfg.Name, t.proc.FullName(), t.last.Evidence)
}
