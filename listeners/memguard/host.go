package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/procstat"
)

// hostState is what memguard knows of the host between rounds.
type hostState struct {
	reading  procstat.Host
	err      error
	prev     procstat.Host // the reading before, for the CPU interval
	busy     float64       // busy share over the last interval
	busyFrom time.Time     // above the CPU threshold since
	loadFrom time.Time     // above the load threshold since
	disks    []diskState
	open     map[string]bool // open host incidents by key
	seq      int
}

type diskState struct {
	procstat.Disk
	err error
}

// hostReading is one round's reading of the host.
type hostReading struct {
	host  procstat.Host
	err   error
	disks []diskState
}

// diskPaths are the watched paths: the state store's directory first.
func (e *engine) diskPaths() []string {
	paths := []string{filepath.Dir(e.statePath)}
	for _, p := range e.cfg.Host.Disks {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// readHost reads the host (nothing when the host guard is off).
func (e *engine) readHost() hostReading {
	if e.cfg.Host.Off {
		return hostReading{}
	}
	var r hostReading
	r.host, r.err = e.reader.Host()
	for _, p := range e.diskPaths() {
		d, err := procstat.DiskFree(p)
		r.disks = append(r.disks, diskState{Disk: d, err: err})
	}
	return r
}

// evaluateHost applies the host guards. Called with e.mu held.
func (e *engine) evaluateHost(r hostReading, now time.Time, out *outbox) {
	if e.cfg.Host.Off {
		return
	}
	h, st := e.cfg.Host, &e.hostSt
	if st.open == nil {
		st.open = map[string]bool{}
	}
	st.err, st.disks = r.err, r.disks
	if r.err == nil {
		st.prev, st.reading = st.reading, r.host
		used := r.host.MemUsed()
		e.hostIncident(out, "memory", alert.CondMemory, alert.Critical, used > float64(h.Memory),
			fmt.Sprintf("host memory %.0f%% used (%s of %s available; critical above %s)", used*100,
				config.Size(r.host.MemAvailable), config.Size(r.host.MemTotal), h.Memory),
			fmt.Sprintf("host memory back to %.0f%% used", used*100), e.topByMemory())
		if busy, ok := r.host.BusySince(st.prev); ok {
			st.busy = busy
			over := sustained(&st.busyFrom, busy > float64(h.CPU), now, h.CPUFor)
			e.hostIncident(out, "cpu", alert.CondCPU, alert.Warning, over,
				fmt.Sprintf("host CPU %.0f%% busy for %s (warning above %s for %s)", busy*100, roundDur(now.Sub(st.busyFrom)), h.CPU, h.CPUFor),
				fmt.Sprintf("host CPU back to %.0f%% busy", busy*100), nil)
		}
		if h.Load > 0 {
			per := r.host.Load1 / float64(r.host.CPUs)
			over := sustained(&st.loadFrom, per > h.Load, now, h.LoadFor)
			e.hostIncident(out, "load", alert.CondLoad, alert.Warning, over,
				fmt.Sprintf("host load %.2f per core (%.2f on %d cores) for %s (warning above %.2f for %s)", per, r.host.Load1, r.host.CPUs,
					roundDur(now.Sub(st.loadFrom)), h.Load, h.LoadFor),
				fmt.Sprintf("host load back to %.2f per core", per), nil)
		}
	}
	for _, d := range r.disks {
		low, summary := false, ""
		switch {
		case d.err != nil:
			// A guard that cannot know assumes the worst.
			low, summary = true, fmt.Sprintf("free space of %s not readable: %v", d.Path, d.err)
		case h.MinFree > 0 && d.Free < int64(h.MinFree):
			low, summary = true, fmt.Sprintf("disk %s: %s free of %s (warning below %s)", d.Path, config.Size(d.Free), config.Size(d.Total), h.MinFree)
		case h.MinFreeShare > 0 && d.FreeShare() < float64(h.MinFreeShare):
			low, summary = true, fmt.Sprintf("disk %s: %.1f%% free (%s; warning below %s)", d.Path, d.FreeShare()*100, config.Size(d.Free), h.MinFreeShare)
		}
		if d.Path == filepath.Dir(e.statePath) && summary != "" {
			summary += "; the state store is there: when it fills, alerts and restart budgets cannot be recorded"
		}
		e.hostIncident(out, "disk:"+d.Path, alert.CondDisk, alert.Warning, low, summary,
			fmt.Sprintf("disk %s: %s free again", d.Path, config.Size(d.Free)), map[string]string{"path": d.Path})
	}
}

// sustained reports whether cond has held for at least d, tracking since
// when in *from.
func sustained(from *time.Time, cond bool, now time.Time, d time.Duration) bool {
	if !cond {
		*from = time.Time{}
		return false
	}
	if from.IsZero() {
		*from = now
	}
	return now.Sub(*from) >= d
}

// hostIncident raises or resolves one host incident. Called with e.mu held.
func (e *engine) hostIncident(out *outbox, id string, c alert.Condition, sev alert.Severity, bad bool, summary, resolved string, details map[string]string) {
	st := &e.hostSt
	if bad == st.open[id] {
		return
	}
	st.open[id] = bad
	st.seq++
	kind, text, action := alert.Trigger, summary, "none: a warning about the host (memguard restarts nothing for it)"
	if !bad {
		kind, text, action = alert.Resolve, resolved, ""
	}
	key := alert.Key(e.host, "", c)
	if id != string(c) {
		key += "/" + id
	}
	d := map[string]string{}
	for k, v := range details {
		d[k] = e.redact(v)
	}
	out.add(&alert.Alert{Key: key, Kind: kind, Host: e.host, Condition: c, Severity: sev, Summary: e.redact(text),
		Details: d, Action: action, Listener: listenerName, Time: e.now(),
		SourceID: fmt.Sprintf("%s/host/%s/%d/%d", listenerName, id, e.now().UnixNano(), st.seq)})
}

// topByMemory names the watched processes using the most memory, for the
// host memory alert. Called with e.mu held.
func (e *engine) topByMemory() map[string]string {
	type pv struct {
		name string
		v    int64
	}
	var all []pv
	for _, w := range e.procs {
		if w.last != nil {
			all = append(all, pv{w.name, w.last.TreeRSS})
		}
	}
	slices.SortFunc(all, func(a, b pv) int { return int(b.v - a.v) })
	top := ""
	for i, p := range all[:min(5, len(all))] {
		if i > 0 {
			top += "; "
		}
		top += p.name + " " + config.Size(p.v).String()
	}
	if top == "" {
		return nil
	}
	return map[string]string{"largest_watched": top}
}
