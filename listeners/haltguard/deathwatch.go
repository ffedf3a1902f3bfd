package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/supervisor"
)

// nudgeAfter is when, counted from a critical program's death, haltguard
// asks supervisord for its state: each request turns supervisord's main
// loop. Dense at first (supervisord must have reaped the process before a
// turn dispatches its EXITED event), then sparse up to the second an idle
// loop would take anyway; a settled process stops the series early.
var nudgeAfter = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 6 * time.Millisecond, 8 * time.Millisecond,
	11 * time.Millisecond, 15 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond, 50 * time.Millisecond,
	80 * time.Millisecond, 120 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond,
	500 * time.Millisecond, 700 * time.Millisecond,
}

// errWatchUnsupported is returned by waitExit where a process cannot be
// watched (no pidfd: not Linux, or a kernel before 5.3).
var errWatchUnsupported = errors.New("watching a process's exit needs Linux 5.3 or later (pidfd_open)")

// stateGetter is the cheap call a nudge makes.
type stateGetter interface {
	GetState(ctx context.Context) (supervisor.State, error)
}

// deathWatch wakes supervisord's idle loop when a critical program dies.
//
// supervisord notices a death at once (the process's pipes close) and logs
// "exited:", but it queues the PROCESS_STATE_EXITED event for the next turn
// of its main loop, and an idle loop turns only once a second: measured,
// about half of the EXITED events reached a priority=1000 listener after
// ~1,020 ms instead of ~20 ms. The same wait separates EXITED, BACKOFF and
// FATAL. So haltguard watches every critical program's pid (a pidfd, Linux
// 5.3+) and, when it dies, sends supervisord a few getState requests
// (nudgeAfter), stopping early once the process settles (FATAL, RUNNING
// again, STOPPED) or a halt starts. Each request turns the loop, which then
// dispatches the queued event.
type deathWatch struct {
	sup       stateGetter
	log       zerolog.Logger
	waitExit  func(ctx context.Context, pid int, stop <-chan struct{}) error // blocks until pid exits
	nudgeWait []time.Duration                                                // nudgeAfter

	mu          sync.Mutex
	watches     map[string]*watch // by process name
	unsupported bool
	wg          sync.WaitGroup
}

type watch struct {
	pid     int
	stop    chan struct{} // closed to stop watching and nudging
	stopped bool
}

func newDeathWatch(sup stateGetter, log zerolog.Logger) *deathWatch {
	return &deathWatch{sup: sup, log: log, waitExit: waitExit, nudgeWait: nudgeAfter, watches: map[string]*watch{}}
}

// observe watches process name's pid, replacing a watch of an older pid.
func (d *deathWatch) observe(ctx context.Context, name string, pid int) {
	if pid <= 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unsupported {
		return
	}
	if w := d.watches[name]; w != nil {
		if w.pid == pid {
			return
		}
		w.close()
	}
	w := &watch{pid: pid, stop: make(chan struct{})}
	d.watches[name] = w
	d.wg.Go(func() { d.run(ctx, name, w) })
}

// settle stops nudging for process name: supervisord has reported where its
// failure ended (or a halt is under way).
func (d *deathWatch) settle(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.watches[name]; w != nil {
		w.close()
		delete(d.watches, name)
	}
}

// wait waits for every watch to end (they end with ctx).
func (d *deathWatch) wait() { d.wg.Wait() }

func (w *watch) close() {
	if !w.stopped {
		w.stopped = true
		close(w.stop)
	}
}

func (d *deathWatch) run(ctx context.Context, name string, w *watch) {
	err := d.waitExit(ctx, w.pid, w.stop)
	switch {
	case errors.Is(err, errWatchUnsupported):
		d.mu.Lock()
		first := !d.unsupported
		d.unsupported = true
		d.mu.Unlock()
		if first {
			d.log.Info().Err(err).Msg("not watching critical programs' pids: an EXITED event may wait up to 1 s in supervisord's idle loop")
		}
		return
	case err != nil:
		if ctx.Err() == nil && !isClosed(w.stop) {
			d.log.Warn().Err(err).Str("process", name).Int("pid", w.pid).Msg("watch critical program")
		}
		return
	}
	died := time.Now()
	d.log.Debug().Str("process", name).Int("pid", w.pid).Msg("critical program died: nudging supervisord")
	for _, after := range d.nudgeWait {
		t := time.NewTimer(time.Until(died.Add(after)))
		select {
		case <-t.C:
		case <-w.stop:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := d.sup.GetState(cctx)
		cancel()
		if err != nil {
			d.log.Debug().Err(err).Msg("nudge supervisord")
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
