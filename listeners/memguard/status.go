package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/operator"
)

// Snapshot is what `memguard status` shows: the running listener writes
// it after every round and every action.
type Snapshot struct {
	operator.Header
	Processes []ProcessStatus `json:"processes"`
	Host      *HostStatus     `json:"host,omitempty"`
}

// ProcessStatus is one watched process.
type ProcessStatus struct {
	Process string    `json:"process"`
	PID     int       `json:"pid,omitempty"`
	State   string    `json:"state"`
	Started time.Time `json:"started,omitzero"`

	// The applying limit (limits[i]) and its measure.
	Limit     string `json:"limit,omitempty"` // "limits[2]"
	Measure   string `json:"measure,omitempty"`
	Bytes     int64  `json:"bytes"`      // the measure's value
	MaxBytes  int64  `json:"max_bytes"`  // the limit
	WarnBytes int64  `json:"warn_bytes"` // the warning step
	Over      int    `json:"over"`       // consecutive samples above the limit
	For       int    `json:"for"`        // samples that act
	RSS       int64  `json:"rss_bytes"`  // the process alone
	TreeRSS   int64  `json:"tree_rss"`   // with its descendants
	PSS       int64  `json:"pss_bytes"`  // -1: not read
	Cgroup    int64  `json:"cgroup"`     // -1: none of its own
	Children  int    `json:"children"`   // descendants
	Threads   int    `json:"threads"`
	// The trend: growth per hour (0 until the window is half full) and
	// the time to the limit at that rate (0: not heading there).
	GrowthPerHour int64 `json:"growth_per_hour"`
	TrendReady    bool  `json:"trend_ready"`
	// RecentGrowthPerHour is the growth over the latest samples only
	// (trend.Recent), shown while the window's trend is learning.
	RecentGrowthPerHour int64   `json:"recent_growth_per_hour"`
	TimeToLimit         string  `json:"time_to_limit,omitempty"`
	CPU                 string  `json:"cpu_guard,omitempty"` // "cpu[0]"
	Cores               float64 `json:"cores"`
	FDs                 string  `json:"fds_guard,omitempty"` // "fds[0]"
	OpenFiles           int     `json:"open_files"`          // -1: not readable
	FileLimit           uint64  `json:"file_limit"`
	Note                string  `json:"note,omitempty"`
	operator.Governed
	Alerting []string `json:"alerting,omitempty"` // open incidents
}

// HostStatus is the host.
type HostStatus struct {
	Error        string       `json:"error,omitempty"`
	MemUsed      float64      `json:"mem_used"` // share
	MemTotal     int64        `json:"mem_total"`
	MemAvailable int64        `json:"mem_available"`
	CPUBusy      float64      `json:"cpu_busy"` // share, last interval
	Load1        float64      `json:"load1"`
	CPUs         int          `json:"cpus"`
	Disks        []DiskStatus `json:"disks"`
	Alerting     []string     `json:"alerting,omitempty"`
}

// DiskStatus is a watched file system.
type DiskStatus struct {
	Path  string `json:"path"`
	Free  int64  `json:"free"`
	Total int64  `json:"total"`
	Error string `json:"error,omitempty"`
}

// snapshot builds the status. Called with e.mu held.
func (e *engine) snapshot() Snapshot {
	s := Snapshot{Header: operator.NewHeader(e.now(), e.rounds, e.supErr, e.latched, e.latchErr, e.redact)}
	for _, w := range e.procs {
		s.Processes = append(s.Processes, e.processStatus(w))
	}
	slices.SortFunc(s.Processes, func(a, b ProcessStatus) int { return cmp.Compare(a.Process, b.Process) })
	if !e.cfg.Host.Off {
		st := e.hostSt
		h := &HostStatus{MemUsed: st.reading.MemUsed(), MemTotal: st.reading.MemTotal, MemAvailable: st.reading.MemAvailable,
			CPUBusy: st.busy, Load1: st.reading.Load1, CPUs: st.reading.CPUs}
		if st.err != nil {
			h.Error = st.err.Error()
		}
		for _, d := range st.disks {
			ds := DiskStatus{Path: d.Path, Free: d.Free, Total: d.Total}
			if d.err != nil {
				ds.Error = d.err.Error()
			}
			h.Disks = append(h.Disks, ds)
		}
		for id, open := range st.open {
			if open {
				h.Alerting = append(h.Alerting, id)
			}
		}
		slices.Sort(h.Alerting)
		s.Host = h
	}
	return s
}

func (e *engine) processStatus(w *watched) ProcessStatus {
	p := ProcessStatus{Process: w.name, PID: w.pid, State: w.state, Started: w.since, Bytes: w.value, Over: w.over,
		PSS: -1, Cgroup: -1, OpenFiles: -1, Note: e.redact(w.note),
		Governed: operator.NewGoverned(e.redact(w.lastAction), w.actionAt, w.budget)}
	if w.limit >= 0 {
		lim := e.cfg.Limits[w.limit]
		p.Limit, p.Measure = "limits["+strconv.Itoa(w.limit)+"]", cmp.Or(w.measure, lim.Measure)
		p.MaxBytes, p.WarnBytes, p.For = int64(lim.Max), int64(lim.Warn), lim.For
		if rate, _, ok := w.series.Short(); ok {
			p.RecentGrowthPerHour = int64(rate * 3600)
		}
		if w.fitOK {
			p.TrendReady, p.GrowthPerHour = true, int64(w.fit.Rate()*3600)
			if w.toLimit > 0 {
				p.TimeToLimit = roundDur(w.toLimit)
			}
		}
	}
	if rd := w.last; rd != nil {
		p.RSS, p.TreeRSS, p.PSS, p.Cgroup, p.Children, p.Threads = rd.RSS, rd.TreeRSS, rd.PSS, rd.Cgroup, len(rd.Children), rd.Threads
		p.OpenFiles, p.FileLimit = rd.FDs, rd.FDLimit
	}
	if w.cpu >= 0 {
		p.CPU, p.Cores = "cpu["+strconv.Itoa(w.cpu)+"]", w.cores
	}
	if w.fds >= 0 {
		p.FDs = "fds[" + strconv.Itoa(w.fds) + "]"
	}
	for _, o := range []struct {
		open bool
		name string
	}{{w.warnOpen || w.overOpen, "memory"}, {w.leakOpen, "leak"}, {w.cpuOpen, "cpu"}, {w.fdOpen, "fds"}, {w.budgetOpen, "budget"}} {
		if o.open {
			p.Alerting = append(p.Alerting, o.name)
		}
	}
	return p
}

// writeStatus replaces the snapshot file.
func (e *engine) writeStatus() { operator.Publish(e.log, e.status, &e.mu, e.snapshot) }

// printStatus writes the snapshot for people.
func printStatus(w io.Writer, s Snapshot, now time.Time) {
	s.Print(w, "memguard", now, "nothing is restarted")
	if h := s.Host; h != nil {
		if h.Error != "" {
			fmt.Fprintf(w, "host: not readable: %s\n", h.Error)
		} else {
			fmt.Fprintf(w, "host: memory %.0f%% used (%s available of %s), CPU %.0f%% busy, load %.2f on %d cores\n",
				h.MemUsed*100, config.Size(h.MemAvailable), config.Size(h.MemTotal), h.CPUBusy*100, h.Load1, h.CPUs)
		}
		for _, d := range h.Disks {
			if d.Error != "" {
				fmt.Fprintf(w, "disk %s: not readable: %s\n", d.Path, d.Error)
				continue
			}
			fmt.Fprintf(w, "disk %s: %s free of %s\n", d.Path, config.Size(d.Free), config.Size(d.Total))
		}
		if len(h.Alerting) > 0 {
			fmt.Fprintf(w, "host alerting: %s\n", strings.Join(h.Alerting, ", "))
		}
	}
	if len(s.Processes) == 0 {
		fmt.Fprintln(w, "no process is watched (no limit, cpu or fds entry selects any of supervisord's processes)")
		return
	}
	tw := listener.Table(w, "PROCESS\tSTATE\tMEASURE\tSIZE\tLIMIT\tGROWTH/H\tTO LIMIT\tCPU\tFILES\tLAST ACTION\tRESTARTS")
	for _, p := range s.Processes {
		size, limit, growth, to := "-", "-", "-", "-"
		if p.Limit != "" {
			size, limit = config.Size(p.Bytes).String(), config.Size(p.MaxBytes).String()+" ("+p.Limit+")"
			if p.TrendReady {
				growth = config.Size(p.GrowthPerHour).String()
			} else {
				growth = "(learning: " + config.Size(max(p.RecentGrowthPerHour, 0)).String() + " lately)"
			}
			to = operator.OrDash(p.TimeToLimit)
		}
		state := p.State
		if p.Over > 0 {
			state = fmt.Sprintf("%s %d/%d", p.State, p.Over, p.For)
		}
		cpu := "-"
		if p.CPU != "" {
			cpu = strconv.FormatFloat(p.Cores, 'f', 2, 64)
		}
		files := "-"
		if p.FDs != "" && p.OpenFiles >= 0 {
			files = fmt.Sprintf("%d/%d", p.OpenFiles, p.FileLimit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Process, state, operator.OrDash(p.Measure), size, limit, growth, to,
			cpu, files, operator.OrDash(operator.Clip(p.LastAction, 60)), operator.OrDash(p.Restarts))
	}
	_ = tw.Flush()
	for _, p := range s.Processes {
		if p.Note != "" {
			fmt.Fprintf(w, "note: %s: %s\n", p.Process, p.Note)
		}
	}
}
