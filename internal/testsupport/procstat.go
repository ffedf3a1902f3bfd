package testsupport

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/procfs"
)

// RSSKB is pid's resident set size in kB (/proc through prometheus/procfs).
func RSSKB(tb testing.TB, pid int) float64 {
	tb.Helper()
	st := procStat(tb, pid)
	return float64(st.ResidentMemory()) / 1024
}

// AnonKB is pid's anonymous memory in kB (smaps_rollup): its own heap
// and stacks, not the pages of its binary that RSS also counts.
func AnonKB(tb testing.TB, pid int) float64 {
	tb.Helper()
	r, err := proc(tb, pid).ProcSMapsRollup()
	if err != nil {
		tb.Fatal(err)
	}
	return float64(r.Anonymous) / 1024
}

// CPUTime is the user and system time pid has used so far.
func CPUTime(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	return time.Duration(procStat(tb, pid).CPUTime() * float64(time.Second))
}

func proc(tb testing.TB, pid int) procfs.Proc {
	tb.Helper()
	p, err := procfs.NewProc(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func procStat(tb testing.TB, pid int) procfs.ProcStat {
	tb.Helper()
	st, err := proc(tb, pid).Stat()
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// Median is the median of v (0 for none).
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentile is the p-th percentile of v (nearest rank; 0 for none).
func Percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p/100+0.5)]
}
