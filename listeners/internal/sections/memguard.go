package sections

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Memguard is memguard's section: memory limits, CPU and file-descriptor
// guards per process (each a list in which the most specific entry for a
// process wins), host guards, and the restart budget shared with
// healthprobe through the state store.
type Memguard struct {
	// Limits are memory limits; the most specific entry selecting a
	// process applies to it (procmatch.Rank).
	Limits []MemLimit `yaml:"limits"`
	// CPU warns about a process tree above a number of cores for longer
	// than a duration (the infinite loop).
	CPU []CPUGuard `yaml:"cpu"`
	// FDs warns about a process using more than a share of its own
	// RLIMIT_NOFILE.
	FDs []FDGuard `yaml:"fds"`
	// Host guards the machine itself.
	Host HostGuard `yaml:"host"`
	// Budget is the restart governor's budget per process (shared, by
	// process, with every listener that restarts through the governor).
	Budget Budget `yaml:"budget"`
	// Every is the sampling period: a multiple of 5s (TICK_5; default 5s).
	Every time.Duration `yaml:"every"`
}

// Measures of memory.
const (
	MeasureRSS     = "rss"      // the process's resident set
	MeasurePSS     = "pss"      // its proportional set (shared pages divided among their users)
	MeasureTreeRSS = "tree_rss" // RSS summed over the process and its descendants (default)
	MeasureTreePSS = "tree_pss" // PSS summed likewise
	MeasureCgroup  = "cgroup"   // the memory usage of the process's own cgroup
)

// Measures lists the measures.
var Measures = []string{MeasureTreeRSS, MeasureRSS, MeasurePSS, MeasureTreePSS, MeasureCgroup}

// MemLimit is a memory limit. The ladder: above Warn a warning; above Max
// for For consecutive samples, a restart through the governor (policy
// restart) or an alert (policy alert); with Critical, a halt request when
// the budget is spent.
type MemLimit struct {
	Processes []string    `yaml:"processes"` // process patterns (package procmatch)
	Measure   string      `yaml:"measure"`   // default tree_rss
	Max       config.Size `yaml:"max"`
	// Warn is the warning step (default 90% of Max; equal to Max: no
	// warning step).
	Warn config.Size `yaml:"warn"`
	// For is how many consecutive samples above Max before acting
	// (default 3).
	For      int    `yaml:"for"`
	Policy   string `yaml:"policy"` // restart (default) or alert
	Critical bool   `yaml:"critical"`
	// Leak is the trend warning: growth that will cross Max within
	// Horizon.
	Leak Leak `yaml:"leak"`
}

// Leak configures leak detection: a robust fit of the measure over the
// last Window; a warning when the fitted trend crosses the limit within
// Horizon.
type Leak struct {
	Off     bool          `yaml:"off"`
	Window  time.Duration `yaml:"window"`  // default 30m
	Horizon time.Duration `yaml:"horizon"` // default 2h
	// MinRate ignores slower growth, per hour (default 1MiB).
	MinRate config.Size `yaml:"min_rate"`
}

// CPUGuard warns when a process tree uses more than Max cores for longer
// than For.
type CPUGuard struct {
	Processes []string      `yaml:"processes"`
	Max       float64       `yaml:"max"` // cores: 1.0 is one core busy
	For       time.Duration `yaml:"for"` // default 5m
}

// FDGuard warns when a process holds more than Max of its own
// RLIMIT_NOFILE.
type FDGuard struct {
	Processes []string     `yaml:"processes"`
	Max       config.Share `yaml:"max"` // default 80%
}

// HostGuard guards the machine: used memory (critical), free disk space
// (warning; the state store's file system is always watched) and CPU or
// load (warning).
type HostGuard struct {
	Off bool `yaml:"off"`
	// Memory is the used share of MemTotal (MemTotal - MemAvailable) above
	// which a critical alert is raised (default 90%).
	Memory config.Share `yaml:"memory"`
	// Disks are the paths whose file systems are watched, besides the
	// state store's.
	Disks []string `yaml:"disks"`
	// MinFree is the free space below which a warning is raised: a size
	// (default 10GB) and/or a share of the file system (MinFreeShare).
	MinFree      config.Size  `yaml:"min_free"`
	MinFreeShare config.Share `yaml:"min_free_share"`
	// CPU is the busy share of all cores above which, for CPUFor, a
	// warning is raised (default 80% for 5m).
	CPU    config.Share  `yaml:"cpu"`
	CPUFor time.Duration `yaml:"cpu_for"`
	// Load is the 1-minute load average per core above which, for
	// LoadFor (default 5m), a warning is raised (0: not watched).
	Load    float64       `yaml:"load"`
	LoadFor time.Duration `yaml:"load_for"`
}

// Memguard defaults.
const (
	DefaultMemFor      = 3
	DefaultWarnShare   = 0.9
	DefaultLeakWindow  = 30 * time.Minute
	DefaultLeakHorizon = 2 * time.Hour
	DefaultLeakMinRate = config.Size(1 << 20)
	DefaultCPUFor      = 5 * time.Minute
	DefaultFDShare     = 0.8
	DefaultHostMemory  = 0.9
	DefaultHostMinFree = config.Size(10e9)
	DefaultHostCPU     = 0.8
	DefaultHostFor     = 5 * time.Minute
)

// WithDefaults fills in the zero fields.
func (m Memguard) WithDefaults() Memguard {
	m.Every = cmp.Or(m.Every, TickPeriod)
	limits := make([]MemLimit, len(m.Limits))
	for i, l := range m.Limits {
		l.Measure = cmp.Or(l.Measure, MeasureTreeRSS)
		if l.Warn == 0 {
			l.Warn = config.Size(float64(l.Max) * DefaultWarnShare)
		}
		l.For = cmp.Or(l.For, DefaultMemFor)
		l.Policy = cmp.Or(l.Policy, PolicyRestart)
		l.Leak.Window = cmp.Or(l.Leak.Window, DefaultLeakWindow)
		l.Leak.Horizon = cmp.Or(l.Leak.Horizon, DefaultLeakHorizon)
		l.Leak.MinRate = cmp.Or(l.Leak.MinRate, DefaultLeakMinRate)
		limits[i] = l
	}
	m.Limits = limits
	cpu := make([]CPUGuard, len(m.CPU))
	for i, c := range m.CPU {
		c.For = cmp.Or(c.For, DefaultCPUFor)
		cpu[i] = c
	}
	m.CPU = cpu
	fds := make([]FDGuard, len(m.FDs))
	for i, f := range m.FDs {
		f.Max = cmp.Or(f.Max, DefaultFDShare)
		fds[i] = f
	}
	m.FDs = fds
	h := &m.Host
	h.Memory = cmp.Or(h.Memory, DefaultHostMemory)
	if h.MinFree == 0 && h.MinFreeShare == 0 {
		h.MinFree = DefaultHostMinFree
	}
	h.CPU = cmp.Or(h.CPU, DefaultHostCPU)
	h.CPUFor = cmp.Or(h.CPUFor, DefaultHostFor)
	h.LoadFor = cmp.Or(h.LoadFor, DefaultHostFor)
	return m
}

// Validate checks the section after WithDefaults; every problem is
// reported, each naming its field.
func (m Memguard) Validate() error {
	const at = "listeners.memguard."
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf(at+field+": "+format, args...))
	}
	if len(m.Limits)+len(m.CPU)+len(m.FDs) == 0 && m.Host.Off {
		add("limits", "no limit, cpu or fds guard and the host guard off: memguard would watch nothing")
	}
	if m.Every < TickPeriod || m.Every%TickPeriod != 0 {
		add("every", "%s: want a multiple of 5s (memguard samples on TICK_5)", m.Every)
	}
	if err := m.Budget.Governor().Validate(at + "budget"); err != nil {
		errs = append(errs, err)
	}
	for i, l := range m.Limits {
		f := fmt.Sprintf("limits[%d].", i)
		errs = append(errs, selectors(at+f+"processes", l.Processes)...)
		if !slices.Contains(Measures, l.Measure) {
			add(f+"measure", "%q: want one of %s", l.Measure, strings.Join(Measures, ", "))
		}
		if l.Max <= 0 {
			add(f+"max", "required: the limit, a size such as 2GiB")
		}
		if l.Warn <= 0 || l.Warn > l.Max {
			add(f+"warn", "%s: want more than 0 and at most max (%s)", l.Warn, l.Max)
		}
		if l.For < 1 || l.For > 100 {
			add(f+"for", "%d: want 1 to 100 consecutive samples", l.For)
		}
		switch l.Policy {
		case PolicyRestart:
		case PolicyAlert:
			if l.Critical {
				add(f+"critical", "needs policy restart (a halt is asked when the restart budget is spent)")
			}
		default:
			add(f+"policy", "%q: want restart or alert", l.Policy)
		}
		if !l.Leak.Off {
			if l.Leak.Window < 10*m.Every {
				add(f+"leak.window", "%s: want at least 10 samples (10 x every = %s)", l.Leak.Window, 10*m.Every)
			}
			if l.Leak.Horizon <= 0 {
				add(f+"leak.horizon", "%s: want a positive duration", l.Leak.Horizon)
			}
		}
	}
	for i, c := range m.CPU {
		f := fmt.Sprintf("cpu[%d].", i)
		errs = append(errs, selectors(at+f+"processes", c.Processes)...)
		if c.Max <= 0 {
			add(f+"max", "required: cores (1.0 is one core busy)")
		}
		if c.For < m.Every {
			add(f+"for", "%s: want at least every (%s)", c.For, m.Every)
		}
	}
	for i, d := range m.FDs {
		f := fmt.Sprintf("fds[%d].", i)
		errs = append(errs, selectors(at+f+"processes", d.Processes)...)
		if d.Max <= 0 || d.Max > 1 {
			add(f+"max", "%s: want a share of the process's open-files limit, above 0%% and at most 100%%", d.Max)
		}
	}
	for _, l := range m.Lists() {
		errs = append(errs, overlaps(at+l.Field, l.Patterns)...)
	}
	h := m.Host
	if !h.Off {
		if h.Memory <= 0 || h.Memory >= 1 {
			add("host.memory", "%s: want a share of memory used, above 0%% and below 100%%", h.Memory)
		}
		if h.CPU <= 0 || h.CPU > 1 {
			add("host.cpu", "%s: want a share of all cores, above 0%% and at most 100%%", h.CPU)
		}
		if h.MinFreeShare >= 1 {
			add("host.min_free_share", "%s: want below 100%%", h.MinFreeShare)
		}
		if h.CPUFor < m.Every || h.LoadFor < m.Every {
			add("host.cpu_for", "cpu_for and load_for: want at least every (%s)", m.Every)
		}
		if h.Load < 0 {
			add("host.load", "%v: must not be negative", h.Load)
		}
		for i, d := range h.Disks {
			if !filepath.IsAbs(d) {
				add(fmt.Sprintf("host.disks[%d]", i), "%q: want an absolute path", d)
			}
		}
	}
	return errors.Join(errs...)
}

// selectors checks a required field of process patterns.
func selectors(field string, patterns []string) []error {
	if len(patterns) == 0 {
		return []error{fmt.Errorf("%s: required: the process patterns it applies to (\"*\" for every process)", field)}
	}
	if err := procmatch.CheckAll(field, patterns); err != nil {
		return []error{err}
	}
	return nil
}

func patternsOf[T any](items []T, f func(T) []string) [][]string {
	out := make([][]string, len(items))
	for i, it := range items {
		out[i] = f(it)
	}
	return out
}

// overlaps refuses two entries of one list that share a pattern: they
// select the same processes equally specifically, so neither would win.
func overlaps(field string, lists [][]string) []error {
	var errs []error
	first := map[string]int{}
	for i, l := range lists {
		for _, p := range l {
			if j, ok := first[p]; ok && j != i {
				errs = append(errs, fmt.Errorf("%s[%d].processes: %q is also in %s[%d]: the two select the same processes equally specifically; merge them or name the processes more specifically in one", field, i, p, field, j))
				continue
			}
			first[p] = i
		}
	}
	return errs
}

// GuardList is one of the section's lists of per-process guards: its
// field name and each entry's process patterns.
type GuardList struct {
	Field    string // limits, cpu or fds
	Patterns [][]string
}

// Lists are the section's lists of per-process guards.
func (m Memguard) Lists() []GuardList {
	return []GuardList{
		{"limits", patternsOf(m.Limits, func(l MemLimit) []string { return l.Processes })},
		{"cpu", patternsOf(m.CPU, func(c CPUGuard) []string { return c.Processes })},
		{"fds", patternsOf(m.FDs, func(d FDGuard) []string { return d.Processes })},
	}
}

// Unmatched reports, for -check, every pattern of the lists that selects
// no process of supervisord's (a typo, or a program renamed: it guards
// nothing), naming listeners.NAME.FIELD[i].processes. A pattern that
// selects every process ("*", "*:*") is fine with none yet.
func Unmatched(name string, lists []GuardList, procs []supervisor.ProcessInfo) error {
	var errs []error
	for _, l := range lists {
		for i, pats := range l.Patterns {
			errs = append(errs, procmatch.UnmatchedErrors(fmt.Sprintf("listeners.%s.%s[%d].processes", name, l.Field, i), pats, procs)...)
		}
	}
	return errors.Join(errs...)
}

// Which returns, for the process name in group, the index of the most
// specific entry of each list (-1: none): Limits, CPU, FDs.
func (m Memguard) Which(group, name string) (limit, cpu, fds int) {
	l := m.Lists()
	limit, _, _ = procmatch.Best(l[0].Patterns, group, name)
	cpu, _, _ = procmatch.Best(l[1].Patterns, group, name)
	fds, _, _ = procmatch.Best(l[2].Patterns, group, name)
	return limit, cpu, fds
}

// Ties reports, against supervisord's processes, every process that two
// entries of one list select equally specifically (neither would win).
func (m Memguard) Ties(procs []supervisor.ProcessInfo) error {
	var errs []error
	for _, l := range m.Lists() {
		for _, p := range procs {
			_, rank, tie := procmatch.Best(l.Patterns, p.Group, p.Name)
			if !tie {
				continue
			}
			var same []string
			for i, pats := range l.Patterns {
				r := procmatch.NoMatch
				for _, pat := range pats {
					r = max(r, procmatch.Rank(pat, p.Group, p.Name))
				}
				if r == rank {
					same = append(same, fmt.Sprintf("listeners.memguard.%s[%d]", l.Field, i))
				}
			}
			errs = append(errs, fmt.Errorf("%s: select %s equally specifically (%s): neither wins; name it more specifically in one of them (e.g. %q)",
				strings.Join(same, " and "), p.FullName(), rank, p.FullName()))
		}
	}
	return errors.Join(errs...)
}
