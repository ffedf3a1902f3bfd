package haltguard

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Benchmark parameters: a 20-process group of sleep, and per variant up to
// benchRuns halts within benchBudget (at least benchMinRuns).
const (
	benchTargets = 20
	benchRuns    = 20
	benchMinRuns = 5
	benchBudget  = 90 * time.Second
	pythonBin    = "/usr/bin/python3" // Debian's, which imports the packaged supervisor
)

// BenchmarkHalt measures, on a real supervisord, the time from risk_manager's
// death (the "exited:" line in supervisord's log) to the last of 20 trading
// processes stopped (the last "stopped:" line), as median and p99 over
// repeated halts, for:
//
//   - floor: no listener, a direct stopProcessGroup(trading, false), timed
//     from the call;
//   - haltguard with the shipped [eventlistener:haltguard] block (priority
//     1000), halting on the first unexpected EXITED, with both stop modes,
//     and with priority=-1 (below the programs: supervisord then dispatches
//     the EXITED event before it respawns the dead program, but a FATAL one
//     loop turn later);
//   - a minimal Python childutils listener halting on FATAL
//     (testdata/halt_on_fatal.py, default listener priority).
//
// supervisord logs with millisecond resolution; the floor's start is the
// call's own clock reading, truncated to the millisecond. For haltguard the
// time from the "exited:" line to its "halt" audit line is logged too.
// Before each run haltguard has drained the events of the previous reset
// (drainEvents), so a run starts from a steady state.
//
// Diagnostics: HALTGUARD_BENCH_LOG_LEVEL sets haltguard's log level (debug
// logs every event, which slows it down), and HALTGUARD_BENCH_KEEP=dir
// copies supervisord's log and haltguard's stderr of the last haltguard
// variant there.
//
//	go test -run '^$' -bench BenchmarkHalt -timeout 20m ./integration/haltguard
//
// Goals and comparisons for BENCHMARKS.md (scripts/benchreport), held by
// every haltguard variant but priority=-1, which shows what the shipped
// priority buys:
//
// goal: median-ms <= 60
// goal: p99-ms <= 100
// versus: a bare stopProcessGroup, no listener (the floor): BenchmarkHalt/floor=stopProcessGroup
// versus: a Python childutils listener halting on FATAL: BenchmarkHalt/python=FATAL
// versus: haltguard at priority=-1, below the programs: BenchmarkHalt/haltguard=EXITED,priority=-1
func BenchmarkHalt(b *testing.B) {
	b.Run("floor=stopProcessGroup", benchFloor)
	shipped := hgVariant{stopMode: "multicall", priority: 1000}
	b.Run("haltguard=EXITED", func(b *testing.B) { benchHaltguard(b, shipped) })
	noRespawn := shipped
	noRespawn.noRespawn = true
	b.Run("haltguard=EXITED,risk_manager_autorestart=false", func(b *testing.B) { benchHaltguard(b, noRespawn) })
	concurrent := shipped
	concurrent.stopMode = "concurrent"
	b.Run("haltguard=EXITED,stop_mode=concurrent", func(b *testing.B) { benchHaltguard(b, concurrent) })
	low := shipped
	low.priority = -1
	b.Run("haltguard=EXITED,priority=-1", func(b *testing.B) { benchHaltguard(b, low) })
	b.Run("python=FATAL", benchPython)
}

// hgVariant is one haltguard configuration under benchmark.
type hgVariant struct {
	stopMode  string // stop_mode
	priority  int    // the listener's priority
	noRespawn bool   // risk_manager has autorestart=false: supervisord does not respawn it during the halt
}

// benchSections is the trading group and risk_manager, which exits 3 at
// start while the file risk.broken exists (and then goes FATAL at once:
// startretries=0). supervisord respawns risk_manager as soon as it dies
// (autorestart=true): in the same loop turns as the halt.
const benchSections = `
[program:t]
command=sleep 100000
process_name=t_%(process_num)02d
numprocs=20
startsecs=0
autorestart=true
stopwaitsecs=5
priority=20
stdout_logfile=NONE
stderr_logfile=NONE

[group:trading]
programs=t

[program:risk_manager]
command=sh -c 'if [ -e {{.Dir}}/risk.broken ]; then exit 3; fi; exec sleep 100000'
startsecs=1
startretries=0
autorestart=true
stopwaitsecs=2
priority=10
stdout_logfile=NONE
stderr_logfile=NONE
`

// haltguardBlock is the shipped [eventlistener:haltguard] block, at priority.
func haltguardBlock(priority int) string {
	return harness.Listener{Name: "haltguard", Command: haltguardCommand, Events: "PROCESS_STATE,TICK_5,REMOTE_COMMUNICATION",
		Priority: priority, StopWaitSecs: 15}.Section()
}

func benchFloor(b *testing.B) {
	s := harness.Start(b, harness.Options{Sections: benchSections})
	waitBenchTargets(b, s)
	samples := sample(b, func(i int) time.Duration {
		if _, err := s.Client.StartProcessGroup(ctxT(b), "trading", true); err != nil {
			b.Fatal(err)
		}
		waitBenchTargets(b, s)
		off := logSize(b, s)
		t0 := time.Now()
		if _, err := s.Client.StopProcessGroup(ctxT(b), "trading", false); err != nil {
			b.Fatal(err)
		}
		_, last := waitStops(b, s, off, false)
		return last.Sub(t0.Truncate(time.Millisecond))
	})
	report(b, samples)
}

func benchHaltguard(b *testing.B, v hgVariant) {
	sections := benchSections
	if v.noRespawn {
		sections = strings.Replace(sections, "startretries=0\nautorestart=true", "startretries=0\nautorestart=false", 1)
		if sections == benchSections {
			b.Fatal("risk_manager's autorestart setting not found in benchSections")
		}
	}
	s := harness.Start(b, harness.Options{
		Sections: sections + haltguardBlock(v.priority),
		Files: map[string]string{"superguard.yaml": fmt.Sprintf(`host: bench
state_path: {{.Dir}}/state.db
supervisor: {url: "{{.URL}}"}
sinks: [{name: log, type: log}]
listeners:
  haltguard:
    critical: [risk_manager]
    targets: [trading]
    stop_mode: %s
    remote_resume: true # drainEvents' barrier
`, v.stopMode)},
		Env: []string{"SUPERGUARD_LOG_LEVEL=" + os.Getenv("HALTGUARD_BENCH_LOG_LEVEL")},
	})
	waitBenchTargets(b, s)
	s.WaitProcessState(b, "risk_manager:risk_manager", supervisor.ProcessRunning, waitUp)
	s.WaitListenerLog(b, "haltguard", `"message":"reconciled"`, waitUp)
	drainEvents(b, s, 0)
	cli := harness.Bin(b, "./listeners/haltguard")
	var reactions []time.Duration
	samples := sample(b, func(i int) time.Duration {
		off := logSize(b, s)
		killRisk(b, s)
		exited, last := waitStops(b, s, off, true)
		reactions = append(reactions, haltStarted(b, s, i+1).Sub(exited))
		// Reset: risk_manager back up, latch cleared, targets started.
		if v.noRespawn {
			s.WaitProcessState(b, "risk_manager:risk_manager", supervisor.ProcessExited, waitHalt)
			if err := s.Client.StartProcess(ctxT(b), "risk_manager:risk_manager", true); err != nil {
				b.Fatal(err)
			}
		}
		s.WaitProcessState(b, "risk_manager:risk_manager", supervisor.ProcessRunning, waitHalt)
		if out, err := runCLI(cli, s.Path("superguard.yaml"), "resume", "--start", "--by", "bench"); err != nil {
			b.Fatalf("resume: %v\n%s", err, out)
		}
		waitBenchTargets(b, s)
		drainEvents(b, s, i+1)
		return last.Sub(exited)
	})
	report(b, samples)
	if dir := os.Getenv("HALTGUARD_BENCH_KEEP"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "supervisord.log"), []byte(s.Log()), 0o600)
		_ = os.WriteFile(filepath.Join(dir, "haltguard.err"), []byte(s.ReadListenerStderr("haltguard")), 0o600)
	}
	b.Logf("haltguard's halt started after the exited: line (ms): %s", millis(reactions))
}

// drainEvents waits until haltguard has handled every event supervisord
// queued for it so far (restarting 20 targets queues 40), so that a run
// measures a halt from a steady state and not the drain of that backlog: a
// no-op superguard.resume goes in behind them, and haltguard logs when it
// handled it (the n-th barrier has n+1 such lines).
func drainEvents(b *testing.B, s *harness.Supervisord, n int) {
	b.Helper()
	if err := s.Client.SendRemoteCommEvent(ctxT(b), "superguard.resume", `{"by":"bench-barrier"}`); err != nil {
		b.Fatal(err)
	}
	s.WaitListenerLogCount(b, "haltguard", `"message":"remote resume done"`, n+1, waitHalt)
}

// haltStarted returns the time of haltguard's n-th "halt" audit line.
func haltStarted(b *testing.B, s *harness.Supervisord, n int) time.Time {
	b.Helper()
	var at time.Time
	testsupport.Eventually(b, waitHalt, fmt.Sprintf("halt audit line #%d", n), func() (bool, string) {
		seen := 0
		for _, line := range strings.Split(s.ReadListenerStderr("haltguard"), "\n") {
			var m struct{ Message, Action, Time string }
			if json.Unmarshal([]byte(line), &m) != nil || m.Message != "audit" || m.Action != "halt" {
				continue
			}
			if seen++; seen == n {
				t, err := time.Parse(time.RFC3339Nano, m.Time)
				at = t
				return err == nil, m.Time
			}
		}
		return false, fmt.Sprintf("%d halt lines", seen)
	})
	return at
}

func millis(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprint(d.Milliseconds()))
	}
	return strings.Join(parts, " ")
}

func benchPython(b *testing.B) {
	if _, err := os.Stat(pythonBin); err != nil {
		b.Skipf("no %s: the Python baseline needs Debian's python3 with the supervisor package", pythonBin)
	}
	script, err := filepath.Abs("testdata/halt_on_fatal.py")
	if err != nil {
		b.Fatal(err)
	}
	s := harness.Start(b, harness.Options{
		Sections: benchSections + `
[eventlistener:pyhalt]
command=` + pythonBin + ` {{.Vars.script}}
events=PROCESS_STATE_FATAL
buffer_size=1024
autorestart=true
stdout_logfile=NONE
stderr_logfile={{.Dir}}/pyhalt.err
`,
		Vars: map[string]string{"script": script},
	})
	waitBenchTargets(b, s)
	s.WaitProcessState(b, "risk_manager:risk_manager", supervisor.ProcessRunning, waitUp)
	s.WaitProcessState(b, "pyhalt:pyhalt", supervisor.ProcessRunning, waitUp)
	samples := sample(b, func(i int) time.Duration {
		off := logSize(b, s)
		breakFile(b, s)
		killRisk(b, s)
		exited, last := waitStops(b, s, off, true)
		fixFile(b, s)
		s.WaitProcessState(b, "risk_manager:risk_manager", supervisor.ProcessFatal, waitHalt)
		if err := s.Client.StartProcess(ctxT(b), "risk_manager:risk_manager", true); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Client.StartProcessGroup(ctxT(b), "trading", true); err != nil {
			b.Fatal(err)
		}
		waitBenchTargets(b, s)
		return last.Sub(exited)
	})
	report(b, samples)
}

// sample runs one measured halt per call of run until benchRuns are done
// or benchBudget is spent (after at least benchMinRuns).
func sample(b *testing.B, run func(i int) time.Duration) []time.Duration {
	b.Helper()
	b.ResetTimer()
	start := time.Now()
	var out []time.Duration
	for i := 0; i < benchRuns && (i < benchMinRuns || time.Since(start) < benchBudget); i++ {
		out = append(out, run(i))
	}
	b.StopTimer()
	return out
}

// report publishes the median and p99 (nearest rank) in milliseconds.
func report(b *testing.B, samples []time.Duration) {
	b.Helper()
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(sorted))+0.5) - 1
		return sorted[max(0, min(i, len(sorted)-1))]
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(pct(0.5)), "median-ms")
	b.ReportMetric(ms(pct(0.99)), "p99-ms")
	b.ReportMetric(float64(len(samples)), "runs")
	b.Logf("exited: to the last stopped: (ms): %s", millis(samples))
}

// waitBenchTargets waits until every target is RUNNING and has exec'd
// sleep: with startsecs=0 supervisord reports RUNNING right after the fork,
// and a SIGTERM that lands before the exec is lost (the stop then waits for
// stopwaitsecs and a SIGKILL).
func waitBenchTargets(b *testing.B, s *harness.Supervisord) {
	b.Helper()
	testsupport.Eventually(b, waitUp, "every target RUNNING sleep", func() (bool, string) {
		procs, err := s.Client.GetAllProcessInfo(ctxT(b))
		if err != nil {
			return false, err.Error()
		}
		n := 0
		for _, p := range procs {
			if p.Group != "trading" || p.State != supervisor.ProcessRunning {
				continue
			}
			if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.PID)); err == nil && strings.TrimSpace(string(comm)) == "sleep" {
				n++
			}
		}
		return n == benchTargets, fmt.Sprintf("%d running sleep", n)
	})
}

func killRisk(b *testing.B, s *harness.Supervisord) {
	b.Helper()
	s.Signal(b, "risk_manager:risk_manager", syscall.SIGKILL)
}

func breakFile(b *testing.B, s *harness.Supervisord) {
	b.Helper()
	if err := os.WriteFile(s.Path("risk.broken"), nil, 0o600); err != nil {
		b.Fatal(err)
	}
}

func fixFile(b *testing.B, s *harness.Supervisord) {
	b.Helper()
	if err := os.Remove(s.Path("risk.broken")); err != nil {
		b.Fatal(err)
	}
}

func logSize(b *testing.B, s *harness.Supervisord) int64 {
	b.Helper()
	st, err := os.Stat(s.LogPath)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// logLine matches supervisord's "exited:" and "stopped:" lines.
var logLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ (exited|stopped): (\S+)`)

// waitStops reads supervisord's log from offset until every target's
// "stopped:" line is there, and returns the time of risk_manager's
// "exited:" line (when wantExited) and of the last "stopped:" line.
func waitStops(b *testing.B, s *harness.Supervisord, offset int64, wantExited bool) (exited, last time.Time) {
	b.Helper()
	testsupport.Eventually(b, waitHalt, "every target stopped", func() (bool, string) {
		exited, last = time.Time{}, time.Time{}
		stopped := 0
		f, err := os.Open(s.LogPath)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Seek(offset, 0); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			m := logLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			at, err := time.ParseInLocation("2006-01-02 15:04:05,000", m[1], time.Local)
			if err != nil {
				b.Fatal(err)
			}
			switch {
			case m[2] == "exited" && m[3] == "risk_manager" && exited.IsZero():
				exited = at
			case m[2] == "stopped" && strings.HasPrefix(m[3], "t_"):
				stopped++
				last = at
			}
		}
		f.Close()
		return stopped >= benchTargets && (!wantExited || !exited.IsZero()),
			fmt.Sprintf("%d of %d targets stopped, exited line found: %v", stopped, benchTargets, !exited.IsZero())
	})
	return exited, last
}

func runCLI(bin, configPath string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = testsupport.CleanEnv("SUPERGUARD_CONFIG=" + configPath)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
