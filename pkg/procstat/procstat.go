// Package procstat reads what memguard watches from /proc, through
// github.com/prometheus/procfs (no ps, no fork): per process its resident
// and proportional set sizes, CPU time, threads, open file descriptors
// against its own RLIMIT_NOFILE, its descendants (found from /proc, not
// from supervisord) and its cgroup's memory usage; for the host, memory,
// CPU, load and free disk space.
//
// A Reader keeps what one round needs from the last (the parent of every
// process, each process's open-files limit), so that a round reads the
// stat of the watched trees and of new processes only, not of every
// process on the host; every RescanEvery rounds it reads them all again.
package procstat

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/procfs"
)

// Want says what to read of one process.
type Want struct {
	PID  int
	Tree bool // also its descendants, summed
	PSS  bool // the proportional set size (smaps_rollup: costlier)
	// Cgroup reads the memory usage of the process's cgroup, when it has
	// one of its own (not its parent's).
	Cgroup bool
	FDs    bool // open file descriptors and the open-files limit (of the process, not its descendants)
}

// Proc is one process's reading.
type Proc struct {
	PID, PPID int
	Comm      string
	Start     uint64 // start time in clock ticks after boot: tells a reused pid
	RSS       int64  // bytes
	PSS       int64  // bytes; -1 when not read or not readable
	CPU       float64
	Threads   int
	FDs       int    // -1 when not read or not readable (another user's process without CAP_SYS_PTRACE)
	FDLimit   uint64 // the soft RLIMIT_NOFILE; 0 when unknown
}

// FDShare is the share of its open-files limit the process uses; -1 when
// unknown.
func (p Proc) FDShare() float64 {
	if p.FDs < 0 || p.FDLimit == 0 {
		return -1
	}
	return float64(p.FDs) / float64(p.FDLimit)
}

// Reading is a watched process with its descendants.
type Reading struct {
	Proc
	// Children are its descendants, largest RSS first.
	Children []Proc
	// TreeRSS, TreePSS and TreeCPU sum the process and its descendants
	// (TreePSS -1 when some PSS was not readable).
	TreeRSS, TreePSS int64
	TreeCPU          float64
	// Cgroup is the memory usage of the process's own cgroup (-1: none of
	// its own, or not readable; CgroupNote says why).
	Cgroup     int64
	CgroupPath string
	CgroupNote string
}

// ErrGone is returned for a process that no longer exists.
var ErrGone = errors.New("process gone")

// Reader reads /proc (and the cgroup file system).
type Reader struct {
	fs     procfs.FS
	proc   string // the /proc mount point
	cgroup string // the cgroup2 mount point, or the root of the v1 hierarchies
	limits map[int]limit
	nodes  map[int]node // every process's parent, from the scans
	scans  int
	held   map[int]*os.File // watched processes' stat files, kept open
	buf    [1024]byte
}

// RescanEvery is how many scans read every process's stat again: a
// process adopted by a subreaper inside a watched tree is seen within it.
const RescanEvery = 12

// node is what a scan keeps of a process.
type node struct {
	ppid  int
	start uint64
	seen  int // the scan that last listed it
}

type limit struct {
	start uint64
	open  uint64
}

// New returns a Reader of the proc file system at procRoot ("" is
// /proc) and the cgroup file system at cgroupRoot ("" is /sys/fs/cgroup).
func New(procRoot, cgroupRoot string) (*Reader, error) {
	if procRoot == "" {
		procRoot = procfs.DefaultMountPoint
	}
	if cgroupRoot == "" {
		cgroupRoot = "/sys/fs/cgroup"
	}
	f, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("procstat: %w", err)
	}
	return &Reader{fs: f, proc: procRoot, cgroup: cgroupRoot, limits: map[int]limit{}, nodes: map[int]node{}, held: map[int]*os.File{}}, nil
}

// Read reads the wanted processes. A process that is gone is absent from
// the result (with ErrGone in errs); any other failure to read one is in
// errs under its pid and the process is absent too.
func (r *Reader) Read(wants []Want) (map[int]*Reading, map[int]error) {
	out := make(map[int]*Reading, len(wants))
	errs := map[int]error{}
	var kids map[int][]int
	var listed map[int]procfs.Proc
	if slices.ContainsFunc(wants, func(w Want) bool { return w.Tree }) {
		kids, listed = r.scan()
	}
	for _, w := range wants {
		rd, err := r.read(w, kids, listed)
		if err != nil {
			errs[w.PID] = err
			continue
		}
		out[w.PID] = rd
	}
	r.forget(out)
	return out, errs
}

// scan lists /proc and returns every process's children and its entry.
// The parent of a process seen before is taken from the last scans; new
// processes, and those whose parent is gone (adopted since), have their
// stat read.
func (r *Reader) scan() (map[int][]int, map[int]procfs.Proc) {
	procs, err := r.fs.AllProcs()
	if err != nil {
		return nil, nil
	}
	r.scans++
	full := r.scans%RescanEvery == 1
	listed := make(map[int]procfs.Proc, len(procs))
	for _, p := range procs {
		listed[p.PID] = p
	}
	for _, p := range procs {
		n, ok := r.nodes[p.PID]
		if ok && !full {
			if _, parentLives := listed[n.ppid]; parentLives || n.ppid <= 1 {
				n.seen = r.scans
				r.nodes[p.PID] = n
				continue
			}
		}
		st, err := r.statOf(p.PID, false)
		if err != nil {
			continue // gone since the directory was read
		}
		r.nodes[p.PID] = node{ppid: st.PPID, start: st.Starttime, seen: r.scans}
	}
	kids := make(map[int][]int, len(r.nodes))
	for pid, n := range r.nodes {
		if n.seen != r.scans {
			delete(r.nodes, pid)
			continue
		}
		kids[n.ppid] = append(kids[n.ppid], pid)
	}
	return kids, listed
}

func (r *Reader) read(w Want, kids map[int][]int, listed map[int]procfs.Proc) (*Reading, error) {
	p, err := r.proc1(w.PID, w, listed)
	if err != nil {
		return nil, err
	}
	rd := &Reading{Proc: p, TreeRSS: p.RSS, TreePSS: p.PSS, TreeCPU: p.CPU, Cgroup: -1}
	if w.Tree && kids != nil {
		member := Want{PSS: w.PSS}
		seen := map[int]bool{w.PID: true}
		queue := slices.Clone(kids[w.PID])
		for len(queue) > 0 {
			pid := queue[0]
			queue = queue[1:]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			c, err := r.proc1(pid, member, listed)
			if err != nil || c.PPID != rd.PID && !seen[c.PPID] {
				continue // gone, or no longer in this tree
			}
			rd.Children = append(rd.Children, c)
			rd.TreeRSS += c.RSS
			rd.TreeCPU += c.CPU
			if rd.TreePSS >= 0 && c.PSS >= 0 {
				rd.TreePSS += c.PSS
			} else {
				rd.TreePSS = -1
			}
			queue = append(queue, kids[pid]...)
		}
		slices.SortFunc(rd.Children, func(a, b Proc) int { return int(b.RSS - a.RSS) })
	}
	if w.Cgroup {
		rd.Cgroup, rd.CgroupPath, rd.CgroupNote = r.cgroupUsage(p)
	}
	return rd, nil
}

// proc1 reads one process's stat (its entry from the scan's listing when
// there was one) and what w asks for; it refreshes the process's parent.
func (r *Reader) proc1(pid int, w Want, listed map[int]procfs.Proc) (Proc, error) {
	st, err := r.statOf(pid, true)
	if err != nil {
		return Proc{}, gone(pid, err)
	}
	pr, ok := listed[pid]
	if !ok && (w.PSS || w.FDs) {
		if pr, err = r.fs.Proc(pid); err != nil {
			return Proc{}, gone(pid, err)
		}
	}
	if n, ok := r.nodes[pid]; ok {
		n.ppid, n.start = st.PPID, st.Starttime
		r.nodes[pid] = n
	}
	p := Proc{PID: pid, PPID: st.PPID, Comm: st.Comm, Start: st.Starttime, RSS: int64(st.ResidentMemory()),
		PSS: -1, CPU: st.CPUTime(), Threads: st.NumThreads, FDs: -1}
	if w.PSS {
		if sm, err := pr.ProcSMapsRollup(); err == nil {
			p.PSS = int64(sm.Pss)
		}
	}
	if w.FDs {
		if n, err := pr.FileDescriptorsLen(); err == nil {
			p.FDs = n
		}
		p.FDLimit = r.openLimit(pr, p.Start)
	}
	return p, nil
}

// openLimit is the process's soft RLIMIT_NOFILE, read once per process
// (prlimit can change it: it is read again every time the process is
// seen with a new start time, i.e. a new process).
func (r *Reader) openLimit(pr procfs.Proc, start uint64) uint64 {
	if l, ok := r.limits[pr.PID]; ok && l.start == start {
		return l.open
	}
	lim, err := pr.Limits()
	if err != nil {
		return 0
	}
	r.limits[pr.PID] = limit{start: start, open: lim.OpenFiles}
	return lim.OpenFiles
}

// forget closes the stat files of processes not read this round and
// drops the cached limits of processes no longer watched.
func (r *Reader) forget(live map[int]*Reading) {
	read := make(map[int]bool, 3*len(live))
	for pid, rd := range live {
		read[pid] = true
		for _, c := range rd.Children {
			read[c.PID] = true
		}
	}
	r.release(read)
	if len(r.limits) < 4*len(live)+64 {
		return
	}
	keep := map[int]bool{}
	for pid := range live {
		keep[pid] = true
	}
	for pid := range r.limits {
		if !keep[pid] {
			delete(r.limits, pid)
		}
	}
}

// cgroupUsage reads the memory usage of p's cgroup when p has one of its
// own: a cgroup that is not its parent's (supervisord's). cgroup v2
// (memory.current) and v1 (memory.usage_in_bytes of the memory hierarchy)
// are read.
func (r *Reader) cgroupUsage(p Proc) (int64, string, string) {
	own, err := r.cgroupOf(p.PID)
	if err != nil {
		return -1, "", "cgroup not readable: " + err.Error()
	}
	if par, err := r.cgroupOf(p.PPID); err == nil && par.Path == own.Path {
		return -1, own.Path, "no cgroup of its own (it shares " + own.Path + " with its parent)"
	}
	file := filepath.Join(r.cgroup, own.Path, "memory.current")
	if own.HierarchyID != 0 {
		file = filepath.Join(r.cgroup, "memory", own.Path, "memory.usage_in_bytes")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return -1, own.Path, "cgroup memory not readable: " + err.Error()
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1, own.Path, fmt.Sprintf("cgroup memory %s: %q is not a number", file, b)
	}
	return v, own.Path, ""
}

// cgroupOf returns the cgroup of pid that holds its memory: the v2
// unified one, else the v1 memory hierarchy's.
func (r *Reader) cgroupOf(pid int) (procfs.Cgroup, error) {
	pr, err := r.fs.Proc(pid)
	if err != nil {
		return procfs.Cgroup{}, err
	}
	cgs, err := pr.Cgroups()
	if err != nil {
		return procfs.Cgroup{}, err
	}
	for _, c := range cgs {
		if slices.Contains(c.Controllers, "memory") {
			return c, nil
		}
	}
	for _, c := range cgs {
		if c.HierarchyID == 0 {
			return c, nil
		}
	}
	return procfs.Cgroup{}, errors.New("no memory cgroup")
}

// gone maps a missing /proc entry to ErrGone.
func gone(pid int, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "no such process") {
		return fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	return fmt.Errorf("pid %d: %w", pid, err)
}
