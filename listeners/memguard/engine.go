package main

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/runone"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/procstat"
	"github.com/superguard/superguard/pkg/proctable"
	"github.com/superguard/superguard/pkg/trend"
)

// engine runs the rounds.
type engine struct {
	log       zerolog.Logger
	sup       governor.Supervisor
	alerts    alert.Submitter
	gov       *governor.Governor
	latch     halt.Latch // nil: no kill switch configured
	cfg       sections.Memguard
	reader    *procstat.Reader
	table     *proctable.Table
	host      string
	redact    func(string) string
	now       func() time.Time
	status    string // status snapshot file ("": none)
	statePath string // the state store: its file system is always watched
	self      int    // memguard's own pid: never watched

	bg    context.Context
	wg    sync.WaitGroup
	round runone.Runner

	mu       sync.Mutex
	procs    map[string]*watched // by group:name
	hostSt   hostState
	ticks    int64
	rounds   int64
	roundAt  time.Time
	roundCPU time.Duration // CPU time of the last round's reads (the benchmark reads it from the log)
	supErr   error
	latched  bool
	latchErr error
}

// watched is one supervised process and what memguard knows of it.
type watched struct {
	name  string // group:name
	group string
	proc  string
	pid   int
	start uint64    // /proc start time: a new one is a new incarnation
	since time.Time // supervisord's start time

	limit, cpu, fds int // the applying entry of each list, -1: none

	last     *procstat.Reading
	measure  string // the measure used ("tree_rss", ...)
	value    int64  // its latest value
	note     string // why the measure differs from the configured one
	over     int    // consecutive samples above the limit
	series   *trend.Series
	fit      trend.Fit
	fitOK    bool
	toLimit  time.Duration // by the trend; 0: not heading there
	cores    float64       // CPU over the last interval
	cpuAt    time.Time
	cpuTotal float64
	busyFrom time.Time // above the CPU guard's max since
	fdShare  float64

	// Incidents open (alerted and not yet resolved).
	warnOpen, overOpen, leakOpen, cpuOpen, fdOpen, budgetOpen bool

	state      string
	acting     bool
	lastAction string
	actionAt   time.Time
	budget     governor.Decision
	seq        int
}

// States of a watched process.
const (
	StateOK         = "ok"
	StateWarning    = "warning"
	StateOver       = "over"
	StateRestarting = "restarting"
	StateBackoff    = "backoff"
	StateSpent      = "budget-spent"
	StatePaused     = "paused"
	StateAlerted    = "alerted"
)

// actor carries out restarts and halt requests through e.gov.
func (e *engine) actor() *governor.Actor {
	return &governor.Actor{Sup: e.sup, Gov: e.gov, By: listenerName, Log: e.log, Redact: e.redact}
}

// tick runs a round in the background every cfg.Every (TICK_5 events),
// unless one still runs: the event is acknowledged at once.
func (e *engine) tick() {
	e.mu.Lock()
	e.ticks++
	due := e.ticks == 1 || e.ticks%int64(e.cfg.Every/sections.TickPeriod) == 0
	e.mu.Unlock()
	if due {
		e.round.Go(&e.wg, func() { e.runRound(e.bg) })
	}
}
