package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"

	"github.com/superguard/superguard/internal/testsupport"
)

// envRunMain makes the test binary run main() instead of the tests, so a
// test can run the strategy as a process of its own, whose children
// (os.Executable re-run) are again the strategy. It must not start with
// EnvPrefix: the children's environment keeps it while dropping those.
const envRunMain = "FAKESTRATEGYTEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) != "" {
		main()
	}
	os.Exit(m.Run())
}

// proc is the strategy run as a process by startProc.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *testsupport.SyncBuffer
	done           chan struct{} // closed once it has exited
	err            error         // cmd.Wait's, once done is closed
}

// startProc runs the strategy as a process with args and, on top of the
// test's environment without any FAKESTRATEGY_* variable, env; it waits
// for its started line and kills it when the test ends.
func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{stdout: &testsupport.SyncBuffer{}, stderr: &testsupport.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Env = append(childEnv(testsupport.CleanEnv(envRunMain+"=1")), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.WaitDelay = 5 * time.Second // children holding stderr must not block Wait forever
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("strategy stderr:\n%s", p.stderr.String())
		}
	})
	testsupport.Eventually(t, 10*time.Second, "started line", func() (bool, string) {
		return strings.Contains(p.stderr.String(), "started pid="+strconv.Itoa(p.cmd.Process.Pid)), p.stderr.String()
	})
	return p
}

// awaitLine waits for stderr to contain s.
func (p *proc) awaitLine(t *testing.T, s string) {
	t.Helper()
	testsupport.Eventually(t, 10*time.Second, fmt.Sprintf("%q on stderr", s), func() (bool, string) {
		return strings.Contains(p.stderr.String(), s), p.stderr.String()
	})
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("strategy still running; stderr:\n%s", p.stderr.String())
	}
	return testsupport.ExitCode(t, p.err, "strategy")
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

var childStartedRE = regexp.MustCompile(`child started name=(\S+) pid=(\d+)`)

// childPIDs waits for n "child started" lines and returns the children's
// pids by name.
func (p *proc) childPIDs(t *testing.T, n int) map[string]int {
	t.Helper()
	pids := map[string]int{}
	testsupport.Eventually(t, 10*time.Second, fmt.Sprintf("%d children started", n), func() (bool, string) {
		for _, m := range childStartedRE.FindAllStringSubmatch(p.stderr.String(), -1) {
			pids[m[1]], _ = strconv.Atoi(m[2])
		}
		return len(pids) >= n, p.stderr.String()
	})
	return pids
}

func procStat(t *testing.T, pid int) (procfs.ProcStat, error) {
	t.Helper()
	pr, err := procfs.NewProc(pid)
	if err != nil {
		return procfs.ProcStat{}, err
	}
	return pr.Stat()
}

func TestChildren(t *testing.T) {
	const growLimit = 48 << 20
	tests := []struct {
		name     string
		stop     func(p *proc) error
		wantCode int // -1: killed
	}{
		{name: "die with a SIGKILLed parent", stop: func(p *proc) error { return p.cmd.Process.Kill() }, wantCode: -1},
		{name: "killed on SIGTERM", stop: func(p *proc) error { return p.cmd.Process.Signal(syscall.SIGTERM) }, wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// -children from the environment: were it passed on, every
			// child would spawn children of its own.
			p := startProc(t, []string{"FAKESTRATEGY_CHILDREN=2", "FAKESTRATEGY_CHILD_GROW_RATE=512MiB",
				"FAKESTRATEGY_CHILD_GROW_LIMIT=" + strconv.Itoa(growLimit), "FAKESTRATEGY_HEARTBEAT=10ms"}, "-name", "parent")
			parent := p.cmd.Process.Pid
			pids := p.childPIDs(t, 2)
			starts := map[int]uint64{}
			for i := range 2 {
				name := fmt.Sprintf("parent-child-%d", i)
				pid, ok := pids[name]
				if !ok {
					t.Fatalf("no child %s in %v", name, pids)
				}
				st, err := procStat(t, pid)
				if err != nil {
					t.Fatalf("child %s: %v", name, err)
				}
				if st.PPID != parent {
					t.Errorf("child %s: ppid %d, want %d", name, st.PPID, parent)
				}
				starts[pid] = st.Starttime
				checkChildEnviron(t, pid)
				// Its own diagnostics share our stderr.
				p.awaitLine(t, fmt.Sprintf("fakestrategy[%s]: started pid=%d", name, pid))
				testsupport.Eventually(t, 10*time.Second, name+" grown resident", func() (bool, string) {
					kb := testsupport.RSSKB(t, pid)
					return kb >= growLimit/1024, fmt.Sprintf("RSS %.0f kB", kb)
				})
			}
			// Heartbeats are the parent's alone.
			testsupport.WaitFor(t, 10*time.Second, "a parent heartbeat", func() bool {
				return strings.Contains(p.stdout.String(), `"name":"parent"`)
			})
			if out := p.stdout.String(); strings.Contains(out, "parent-child") {
				t.Errorf("a child wrote to stdout: %q", out)
			}

			if err := tt.stop(p); err != nil {
				t.Fatal(err)
			}
			for pid, start := range starts {
				testsupport.Eventually(t, 10*time.Second, fmt.Sprintf("child %d gone", pid), func() (bool, string) {
					st, err := procStat(t, pid)
					if err != nil { // reaped
						return true, err.Error()
					}
					// A zombie (reparented to an init that does not reap)
					// or a new process that reused the pid is gone too.
					return st.State == "Z" || st.Starttime != start, fmt.Sprintf("state %s ppid %d", st.State, st.PPID)
				})
			}
			if code := p.wait(t); code != tt.wantCode {
				t.Errorf("parent exit code %d, want %d", code, tt.wantCode)
			}
			if tt.wantCode == 0 && strings.Count(p.stderr.String(), "child exited") != 2 {
				t.Errorf("stderr = %q, want 2 child exited lines", p.stderr.String())
			}
		})
	}
}

// checkChildEnviron fails the test if the child pid got a FAKESTRATEGY_*
// variable.
func checkChildEnviron(t *testing.T, pid int) {
	t.Helper()
	pr, err := procfs.NewProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	env, err := pr.Environ()
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, EnvPrefix) {
			t.Errorf("child %d has %s in its environment", pid, kv)
		}
	}
}

func TestSpinProcess(t *testing.T) {
	t.Run("forever", func(t *testing.T) {
		p := startProc(t, nil, "-spin")
		pid := p.cmd.Process.Pid
		p.awaitLine(t, "spinning for=0s")
		c0 := testsupport.CPUTime(t, pid)
		testsupport.Eventually(t, 20*time.Second, "0.3s of CPU", func() (bool, string) {
			used := testsupport.CPUTime(t, pid) - c0
			return used >= 300*time.Millisecond, used.String()
		})
	})
	t.Run("for 300ms", func(t *testing.T) {
		p := startProc(t, nil, "-spin", "-spin-for", "300ms")
		pid := p.cmd.Process.Pid
		p.awaitLine(t, "spin stopped after=300ms")
		// Idle now: some window of at least 500ms in which the CPU time
		// grew by less than a quarter of it (spinning, it grows by all of it).
		const window = 500 * time.Millisecond
		t0, c0 := time.Now(), testsupport.CPUTime(t, pid)
		testsupport.Eventually(t, 20*time.Second, "CPU time to stop growing", func() (bool, string) {
			now, c := time.Now(), testsupport.CPUTime(t, pid)
			wall, used := now.Sub(t0), c-c0
			if wall < window {
				return false, fmt.Sprintf("%v of CPU in %v", used, wall)
			}
			if used < wall/4 {
				return true, ""
			}
			t0, c0 = now, c // busy: look at a new window
			return false, fmt.Sprintf("%v of CPU in %v", used, wall)
		})
		if p.exited() {
			t.Error("strategy exited")
		}
	})
}

// fdLimits is pid's soft and hard RLIMIT_NOFILE from /proc/<pid>/limits.
func fdLimits(t *testing.T, pid int) (soft, hard string) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Max open files"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[0], f[1]
			}
		}
	}
	t.Fatalf("no Max open files line in /proc/%d/limits", pid)
	return "", ""
}

func TestFDs(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	hard := strconv.FormatUint(lim.Max, 10)
	if lim.Max == math.MaxUint64 {
		hard = "unlimited"
	}
	if lim.Max < 256 {
		t.Skipf("hard RLIMIT_NOFILE %d is below the 256 the test sets", lim.Max)
	}

	t.Run("open under the limit", func(t *testing.T) {
		p := startProc(t, nil, "-nofile", "256", "-open-fds", "100")
		pid := p.cmd.Process.Pid
		p.awaitLine(t, "opened fds count=100\n")
		if n := countFDs(t, pid); n < 100 {
			t.Errorf("%d fds open, want at least 100", n)
		}
		if soft, h := fdLimits(t, pid); soft != "256" || h != hard {
			t.Errorf("Max open files %s %s, want 256 %s", soft, h, hard)
		}
	})
	t.Run("as many as the limit allows", func(t *testing.T) {
		p := startProc(t, nil, "-nofile", "64", "-open-fds", "100")
		pid := p.cmd.Process.Pid
		p.awaitLine(t, "opened fewer fds than asked wanted=100 opened=")
		p.awaitLine(t, `soft-limit=64 error="too many open files"`)
		// Full: every descriptor below the limit is taken (one inherited
		// above it may be open too).
		for fd := range 64 {
			if _, err := os.Lstat(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); err != nil {
				t.Errorf("fd %d is free under the soft limit 64: %v", fd, err)
			}
		}
		if soft, _ := fdLimits(t, pid); soft != "64" {
			t.Errorf("soft Max open files %s, want 64", soft)
		}
		if p.exited() {
			t.Error("strategy exited")
		}
	})
	t.Run("above the hard limit", func(t *testing.T) {
		if lim.Max >= math.MaxInt32 {
			t.Skip("no int above the hard limit")
		}
		p := startProc(t, nil, "-nofile", strconv.FormatUint(lim.Max+1, 10))
		if code := p.wait(t); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
		if want := fmt.Sprintf("nofile %d exceeds the hard limit %d", lim.Max+1, lim.Max); !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr = %q, want %q", p.stderr.String(), want)
		}
	})
}
