// Package proctable keeps a guard's table of supervisord's processes
// between rounds without reading them all every round: a full read
// (getAllProcessInfo, about 20 KB of XML per process) every Every, and
// in between the PROCESS_STATE events the handler queues (never waiting
// for a round). A process the table does not know, or dropped events
// (Relist), force a full read at the next round.
package proctable

import (
	"context"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/superguard/superguard/pkg/supervisor"
)

// DefaultEvery is how often the whole table is read from supervisord.
const DefaultEvery = 30 * time.Second

// Lister is the part of supervisord's API the table reads.
type Lister interface {
	GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error)
}

// Table is the process table. Changed and Relist may be called from the
// event handler while a round runs Processes.
type Table struct {
	Sup   Lister
	Every time.Duration // default DefaultEvery
	Now   func() time.Time

	qmu    sync.Mutex
	q      []change
	relist bool

	mu       sync.Mutex // one round at a time
	procs    []supervisor.ProcessInfo
	listedAt time.Time
}

// change is a queued PROCESS_STATE event.
type change struct {
	group, name string
	state       supervisor.ProcessState
	pid         int
	at          time.Time
}

func (t *Table) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Changed queues a PROCESS_STATE event (to is the state name, such as
// RUNNING) for the next round. An unknown state is ignored.
func (t *Table) Changed(group, name, to string, pid int) {
	st, err := supervisor.ParseProcessState(to)
	if err != nil {
		return
	}
	if group == "" {
		group = name
	}
	t.qmu.Lock()
	t.q = append(t.q, change{group: group, name: name, state: st, pid: pid, at: t.now()})
	t.qmu.Unlock()
}

// Relist makes the next round read every process (events were dropped).
func (t *Table) Relist() {
	t.qmu.Lock()
	t.relist = true
	t.qmu.Unlock()
}

// Processes returns the table for a round: read from supervisord when it
// is due, else the last read with the queued events applied. On a read
// error it returns the error and the table as the events left it. The
// slice is the caller's.
func (t *Table) Processes(ctx context.Context) ([]supervisor.ProcessInfo, error) {
	t.qmu.Lock()
	changes, relist := t.q, t.relist
	t.q, t.relist = nil, false
	t.qmu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if relist || t.procs == nil || now.Sub(t.listedAt) >= cmpOr(t.Every, DefaultEvery) {
		procs, err := t.Sup.GetAllProcessInfo(ctx)
		// Decoding the list allocates ~20 KB per process (XML-RPC through
		// kolo/xmlrpc), all garbage a moment later: give it back to the OS
		// at once rather than hold a thousand processes' worth (~9 MB
		// measured) until the scavenger gets to it. One GC per full read;
		// healthprobe's BenchmarkRound: RSS 38.9 -> 29.8 MB, same CPU.
		debug.FreeOSMemory()
		if err == nil {
			// The events before this read are in it.
			t.procs, t.listedAt = procs, now
			return slices.Clone(t.procs), nil
		}
		t.apply(changes)
		return slices.Clone(t.procs), err
	}
	t.apply(changes)
	return slices.Clone(t.procs), nil
}

// apply applies queued events to the table: a process that became RUNNING
// started when the event came (a little after supervisord's own start
// time). Called with t.mu held.
func (t *Table) apply(changes []change) {
	for _, c := range changes {
		i := slices.IndexFunc(t.procs, func(p supervisor.ProcessInfo) bool {
			return p.Name == c.name && (p.Group == c.group || p.Group == "")
		})
		if i < 0 {
			// A process the table does not know (added by supervisorctl
			// update): the next round reads them all.
			t.listedAt = time.Time{}
			continue
		}
		p := &t.procs[i]
		p.State = c.state
		if c.state == supervisor.ProcessRunning && c.pid != 0 && c.pid != p.PID {
			p.PID, p.Start = c.pid, c.at
		}
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
