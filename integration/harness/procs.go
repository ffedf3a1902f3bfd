package harness

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// proc identifies one process: a PID together with its start time, so a
// reused PID is never mistaken for it.
type proc struct {
	PID, PPID, PGID int
	Start           uint64 // clock ticks after boot (/proc/PID/stat field 22)
	Comm            string
}

// readProc parses /proc/PID/stat.
func readProc(pid int) (proc, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, err
	}
	return parseStat(b)
}

// parseStat parses the content of /proc/PID/stat. The command name is in
// parentheses and may itself contain spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(b []byte) (proc, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return proc{}, fmt.Errorf("stat %q: no command name", b)
	}
	f := strings.Fields(string(b[end+1:]))
	// f[0] is field 3 (state); ppid is field 4, pgrp 5, starttime 22.
	if len(f) < 20 {
		return proc{}, fmt.Errorf("stat %q: %d fields after the command name", b, len(f))
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(string(b[:open])))
	ppid, err2 := strconv.Atoi(f[1])
	pgid, err3 := strconv.Atoi(f[2])
	start, err4 := strconv.ParseUint(f[19], 10, 64)
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return proc{}, fmt.Errorf("stat %q: %w", b, err)
		}
	}
	return proc{PID: pid, PPID: ppid, PGID: pgid, Start: start, Comm: string(b[open+1 : end])}, nil
}

// descendants returns every live descendant of root (not root itself).
func descendants(root int) []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := readProc(pid)
		if err != nil {
			continue // exited meanwhile
		}
		children[p.PPID] = append(children[p.PPID], p)
	}
	var out []proc
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			out = append(out, c)
			queue = append(queue, c.PID)
		}
	}
	return out
}

// procSet accumulates the processes seen under supervisord while it runs, so
// that the ones still alive after it exits (re-parented away from it) can be
// found and killed.
type procSet map[int]proc

func (s procSet) addDescendants(root int) {
	for _, p := range descendants(root) {
		s[p.PID] = p
	}
}

// alive reports whether p is still the same running process (not a zombie).
func (p proc) alive() bool {
	now, err := readProc(p.PID)
	if err != nil || now.Start != p.Start {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/stat")
	if err != nil {
		return false
	}
	end := bytes.LastIndexByte(b, ')')
	return end >= 0 && end+2 < len(b) && b[end+2] != 'Z'
}

// killSurvivors SIGKILLs every process of the set that is still alive, and
// its process group (never the caller's own), and returns what it killed.
func (s procSet) killSurvivors() []proc {
	own := syscall.Getpgrp()
	var killed []proc
	for _, p := range s {
		if !p.alive() {
			continue
		}
		if p.PGID > 1 && p.PGID != own {
			_ = syscall.Kill(-p.PGID, syscall.SIGKILL)
		}
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
		killed = append(killed, p)
	}
	return killed
}
