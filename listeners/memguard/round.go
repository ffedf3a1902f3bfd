package main

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/procstat"
	"github.com/superguard/superguard/pkg/supervisor"
	"github.com/superguard/superguard/pkg/trend"
)

// roundWithin bounds a round's reads of supervisord and the latch.
const roundWithin = 5 * time.Second

// runRound reads the process table and the latch, reads /proc for every
// watched process, evaluates the guards and the host, starts the actions
// due (on their own goroutines), sends the alerts and writes the status.
func (e *engine) runRound(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, roundWithin)
	defer cancel()
	// On a read error the table is the last one with the events applied:
	// /proc is still read for it (the guards keep watching), and an
	// action that needs supervisord fails and says so.
	procs, supErr := e.table.Processes(rctx)
	latched, latchErr := false, error(nil)
	if e.latch != nil {
		latched, _, latchErr = halt.Halted(rctx, e.latch)
	}
	now := e.now()
	cpu0 := cpuTime()
	e.mu.Lock()
	e.rounds++
	e.roundAt, e.supErr, e.latched, e.latchErr = now, supErr, latched, latchErr
	var out outbox
	wants := e.syncLocked(procs, now, &out)
	e.mu.Unlock()
	if supErr != nil {
		e.log.Warn().Err(supErr).Msg("supervisord not readable: watching the processes it last listed; nothing can be restarted")
	}

	readings, errs := e.reader.Read(wants)
	host := e.readHost()

	e.mu.Lock()
	for _, w := range e.procs {
		if w.pid == 0 {
			continue
		}
		rd, err := readings[w.pid], errs[w.pid]
		if rd == nil {
			if err != nil && !errors.Is(err, procstat.ErrGone) {
				w.note = "not readable: " + err.Error()
			}
			// Gone between supervisord's list and the read: its exit
			// event is on its way; nothing to do.
			continue
		}
		e.evaluate(w, rd, now, &out)
	}
	e.evaluateHost(host, now, &out)
	e.roundCPU = cpuTime() - cpu0
	roundCPU := e.roundCPU
	e.mu.Unlock()

	out.send(e)
	e.log.Debug().Int("processes", len(wants)).Float64("cpu_ms", float64(roundCPU.Microseconds())/1000).
		Float64("took_ms", float64(e.now().Sub(now).Microseconds())/1000).Msg("round")
	e.writeStatus()
}

// syncLocked brings the watched processes in line with supervisord's
// table and returns what to read of each running one. Called with e.mu
// held.
func (e *engine) syncLocked(procs []supervisor.ProcessInfo, now time.Time, out *outbox) []procstat.Want {
	seen := make(map[string]bool, len(procs))
	wants := make([]procstat.Want, 0, len(procs))
	for _, p := range procs {
		group := p.Group
		if group == "" {
			group = p.Name
		}
		name := group + ":" + p.Name
		if p.PID != 0 && p.PID == e.self {
			continue // memguard does not restart itself from inside a round
		}
		w := e.procs[name]
		if w == nil {
			lim, cpu, fds := e.cfg.Which(group, p.Name)
			if lim < 0 && cpu < 0 && fds < 0 {
				continue // no guard applies
			}
			w = &watched{name: name, group: group, proc: p.Name, limit: lim, cpu: cpu, fds: fds, state: StateOK}
			if lim >= 0 {
				w.series = trend.New(e.cfg.Limits[lim].Leak.Window)
			}
			e.procs[name] = w
		}
		seen[name] = true
		if p.State != supervisor.ProcessRunning || p.PID == 0 {
			if w.pid != 0 {
				w.reset()
			}
			w.pid, w.state, w.last = 0, "not running", nil
			continue
		}
		if p.PID != w.pid {
			w.reset()
			w.pid, w.since = p.PID, p.Start
			if w.state == "not running" {
				w.state = StateOK
			}
		}
		want := procstat.Want{PID: p.PID, FDs: w.fds >= 0}
		if w.limit >= 0 {
			switch e.cfg.Limits[w.limit].Measure {
			case sections.MeasurePSS:
				want.PSS = true
			case sections.MeasureTreeRSS:
				want.Tree = true
			case sections.MeasureTreePSS:
				want.Tree, want.PSS = true, true
			case sections.MeasureCgroup:
				// The tree is the fallback when it has no cgroup of its own.
				want.Cgroup, want.Tree = true, true
			}
		}
		if w.cpu >= 0 {
			want.Tree = true // CPU counts the whole tree
		}
		wants = append(wants, want)
	}
	for name, w := range e.procs {
		if seen[name] {
			continue
		}
		// Removed from supervisord: its incidents would never resolve.
		delete(e.procs, name)
		e.resolveAll(w, out, "no longer watched: removed from supervisord")
	}
	return wants
}

// reset starts a new incarnation: counters, trend and CPU history start
// over (open incidents resolve at the next evaluation if it is well).
func (w *watched) reset() {
	w.start, w.over, w.busyFrom, w.cpuAt, w.cpuTotal, w.cores = 0, 0, time.Time{}, time.Time{}, 0, 0
	w.fitOK, w.toLimit, w.last, w.value, w.note = false, 0, nil, 0, ""
	if w.series != nil {
		w.series.Reset()
	}
}

// cpuTime is this process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
