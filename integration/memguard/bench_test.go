package memguard_test

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// BenchmarkRound: 200 supervised processes, each a shell with two
// children (600 processes), under a real supervisord; memguard watches
// every one with a tree_rss limit, a CPU guard and an fds guard, and the
// host guard, sampling on every TICK_5. It reports memguard's CPU time per
// round (from /proc, over the rounds: the ticks, the table reads and the
// rounds; goal under 20 ms), the median wall time of a round (from its
// log), and its RSS (median and peak over the rounds; goal under 15 MB).
// Beside it, in the same run, a round as superlance's memmon does it: one
// `ps -orss= -p PID` through the shell per process (RSS only, no children),
// its CPU (the shells' and ps's) and wall time, and the ratio of the two
// CPU times.
//
//	SUPERGUARD_SUPERVISORD=... go test -run '^$' -bench Round -benchtime 1x ./integration/memguard
//
// Goals and comparisons for BENCHMARKS.md (scripts/benchreport):
//
// goal: cpu-ms/round < 20
// versus: memmon's round, one ps per process: memmon-like-cpu-ms/round
// versus: memmon's CPU over memguard's: memmon-like/memguard-cpu
// goal: RSS-MB < 15
func BenchmarkRound(b *testing.B) {
	const procs = 200
	const rounds = 8
	ps, err := exec.LookPath("ps")
	if err != nil {
		b.Skip("needs ps (procps) for the memmon-like comparison")
	}
	s := harness.StartGuards(b, host, harness.Options{
		Sections:     harness.Fleet("t", "/bin/sh -c 'sleep 3600 & sleep 3600 & wait'", procs, "stopasgroup=true", "killasgroup=true"),
		StartTimeout: 2 * time.Minute,
	}, harness.Guard{Name: "memguard", BufferSize: 2048, Body: `
limits: [{processes: ["*"], max: 2GiB}]
cpu: [{processes: ["*"], max: 0.9, for: 5m}]
fds: [{processes: ["*"], max: 80%}]
`, Extra: []string{"environment=SUPERGUARD_LOG_LEVEL=debug"}})
	e := &env{s: s}
	testsupport.WaitFor(b, 3*time.Minute, "every process watched with its children", func() bool {
		n := 0
		for _, p := range e.status(b).Processes {
			if strings.HasPrefix(p.Process, "t:") && p.Children == 2 {
				n++
			}
		}
		return n == procs
	})
	pid := s.WaitProcessState(b, "memguard", supervisor.ProcessRunning, time.Minute).PID
	logPath := s.Path("memguard.err")
	mark := harness.FileSize(b, logPath)
	cpu0 := testsupport.CPUTime(b, pid)
	b.ResetTimer()
	var took, rss, anon []float64
	testsupport.WaitFor(b, time.Duration(rounds+4)*6*time.Second, fmt.Sprintf("%d rounds", rounds), func() bool {
		took = harness.LogValues(b, logPath, mark, `"message":"round"`, "took_ms")
		rss = append(rss, testsupport.RSSKB(b, pid)/1024)
		anon = append(anon, statusKB(b, pid, "RssAnon:")/1024)
		return len(took) >= rounds
	})
	b.StopTimer()
	cpu := float64((testsupport.CPUTime(b, pid) - cpu0).Microseconds()) / 1000 / float64(len(took))
	roundCPU := harness.LogValues(b, logPath, mark, `"message":"round"`, "cpu_ms")

	// memmon's round: one ps through the shell per process.
	var pids []int
	for _, p := range e.status(b).Processes {
		if strings.HasPrefix(p.Process, "t:") {
			pids = append(pids, p.PID)
		}
	}
	var psCPU, psWall []float64
	for range 3 {
		start := time.Now()
		var c time.Duration
		for _, p := range pids {
			cmd := exec.Command("/bin/sh", "-c", ps+" -orss= -p "+strconv.Itoa(p))
			out, err := cmd.Output()
			if err != nil || strings.TrimSpace(string(out)) == "" {
				b.Fatalf("ps for %d: %v %q", p, err, out)
			}
			c += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		psWall = append(psWall, float64(time.Since(start).Microseconds())/1000)
		psCPU = append(psCPU, float64(c.Microseconds())/1000)
	}
	b.ReportMetric(cpu, "cpu-ms/round")
	b.ReportMetric(testsupport.Median(took), "round-ms")
	b.ReportMetric(testsupport.Median(rss), "RSS-MB")
	b.ReportMetric(slices.Max(rss), "RSS-max-MB")
	b.ReportMetric(testsupport.Median(anon), "RssAnon-MB")
	b.ReportMetric(testsupport.Median(psCPU), "memmon-like-cpu-ms/round")
	b.ReportMetric(testsupport.Median(psWall), "memmon-like-round-ms")
	b.ReportMetric(testsupport.Median(psCPU)/cpu, "memmon-like/memguard-cpu")
	b.ReportMetric(testsupport.Median(roundCPU), "round-cpu-ms")

	// The floor: the same memguard with nothing to watch (the ticks, the
	// heartbeats in the state store, the alert senders polling it).
	if _, err := s.Client.StopProcessGroup(b.Context(), "t", true); err != nil {
		b.Fatal(err)
	}
	testsupport.WaitFor(b, time.Minute, "no process watched", func() bool {
		for _, p := range e.status(b).Processes {
			if p.PID != 0 {
				return false
			}
		}
		return true
	})
	mark, cpu0 = harness.FileSize(b, logPath), testsupport.CPUTime(b, pid)
	var idle []float64
	testsupport.WaitFor(b, time.Duration(rounds+4)*6*time.Second, "idle rounds", func() bool {
		idle = harness.LogValues(b, logPath, mark, `"message":"round"`, "took_ms")
		return len(idle) >= rounds/2
	})
	floor := float64((testsupport.CPUTime(b, pid) - cpu0).Microseconds()) / 1000 / float64(len(idle))
	b.ReportMetric(floor, "idle-cpu-ms/5s")
	b.ReportMetric(cpu-floor, "cpu-ms/round-over-idle")
}

// statusKB is a field of /proc/PID/status in kB.
func statusKB(b *testing.B, pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return v
		}
	}
	return 0
}
