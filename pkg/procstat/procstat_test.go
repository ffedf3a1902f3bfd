package procstat

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
)

func newReader(t *testing.T) *Reader {
	t.Helper()
	r, err := New("", "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tree starts sh with two sleeping children and waits until both are up.
func tree(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "sleep 600 & sleep 600 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("pkill", "-KILL", "-P", strconv.Itoa(cmd.Process.Pid)).Run()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	r := newReader(t)
	testsupport.WaitFor(t, 10*time.Second, "two children of sh", func() bool {
		got, _ := r.Read([]Want{{PID: cmd.Process.Pid, Tree: true}})
		return got[cmd.Process.Pid] != nil && len(got[cmd.Process.Pid].Children) == 2
	})
	return cmd
}

func TestReadTree(t *testing.T) {
	cmd := tree(t)
	pid := cmd.Process.Pid
	r := newReader(t)
	got, errs := r.Read([]Want{{PID: pid, Tree: true, PSS: true, FDs: true}})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	rd := got[pid]
	if rd.PPID != os.Getpid() || rd.Comm != "sh" || rd.RSS <= 0 || rd.Threads != 1 || rd.Start == 0 {
		t.Errorf("sh: %+v", rd.Proc)
	}
	if len(rd.Children) != 2 {
		t.Fatalf("children %+v", rd.Children)
	}
	var sum int64 = rd.RSS
	for _, c := range rd.Children {
		if c.PPID != pid || c.Comm != "sleep" {
			t.Errorf("child %+v", c)
		}
		sum += c.RSS
	}
	if rd.TreeRSS != sum || rd.TreeRSS <= rd.RSS {
		t.Errorf("tree RSS %d; want the sum %d", rd.TreeRSS, sum)
	}
	if rd.PSS <= 0 || rd.TreePSS < rd.PSS {
		t.Errorf("PSS %d tree %d (the test runs as the owner: smaps_rollup is readable)", rd.PSS, rd.TreePSS)
	}
	if rd.FDs < 3 || rd.FDLimit == 0 || rd.FDShare() <= 0 {
		t.Errorf("fds %d of %d", rd.FDs, rd.FDLimit)
	}
	// Without Tree: no children, the sums are the process's own.
	got, _ = r.Read([]Want{{PID: pid}})
	if rd := got[pid]; len(rd.Children) != 0 || rd.TreeRSS != rd.RSS || rd.PSS != -1 || rd.FDs != -1 {
		t.Errorf("plain read: %+v", rd)
	}
}

func TestGoneProcess(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	r := newReader(t)
	got, errs := r.Read([]Want{{PID: cmd.Process.Pid, Tree: true}, {PID: os.Getpid()}})
	if got[cmd.Process.Pid] != nil || !errors.Is(errs[cmd.Process.Pid], ErrGone) {
		t.Errorf("a reaped process: %v %v", got[cmd.Process.Pid], errs)
	}
	if got[os.Getpid()] == nil {
		t.Error("the live process was not read")
	}
}

func TestCPUTime(t *testing.T) {
	r := newReader(t)
	read := func() float64 {
		got, _ := r.Read([]Want{{PID: os.Getpid()}})
		return got[os.Getpid()].CPU
	}
	before := read()
	testsupport.WaitFor(t, 30*time.Second, "CPU time to grow", func() bool {
		for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		}
		return read() > before
	})
}

func TestCgroupOfItsOwn(t *testing.T) {
	r := newReader(t)
	got, _ := r.Read([]Want{{PID: os.Getpid(), Cgroup: true}})
	rd := got[os.Getpid()]
	// The test shares its parent's cgroup (go test runs it directly):
	// no usage, and a note saying why.
	if rd.Cgroup != -1 || rd.CgroupNote == "" {
		t.Errorf("cgroup %d %q %q", rd.Cgroup, rd.CgroupPath, rd.CgroupNote)
	}
}

func TestCgroupFromFakeRoots(t *testing.T) {
	// A fake /proc and cgroup2 root: the process in /strategy/mm, its
	// parent in /supervisor.
	proc, cg := t.TempDir(), t.TempDir()
	write := func(path, s string) {
		t.Helper()
		if err := os.MkdirAll(path[:strings.LastIndex(path, "/")], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stat := func(pid, ppid string) string {
		return pid + " (x) S " + ppid + " 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 42 1000 25 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
	}
	write(proc+"/10/stat", stat("10", "1"))
	write(proc+"/10/cgroup", "0::/supervisor\n")
	write(proc+"/20/stat", stat("20", "10"))
	write(proc+"/20/cgroup", "0::/strategy/mm\n")
	write(proc+"/30/stat", stat("30", "10"))
	write(proc+"/30/cgroup", "0::/supervisor\n")
	write(cg+"/strategy/mm/memory.current", "123456789\n")
	r, err := New(proc, cg)
	if err != nil {
		t.Fatal(err)
	}
	got, errs := r.Read([]Want{{PID: 20, Cgroup: true}, {PID: 30, Cgroup: true}, {PID: 10, Tree: true}})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if rd := got[20]; rd.Cgroup != 123456789 || rd.CgroupPath != "/strategy/mm" || rd.CgroupNote != "" {
		t.Errorf("own cgroup: %d %q %q", rd.Cgroup, rd.CgroupPath, rd.CgroupNote)
	}
	if rd := got[30]; rd.Cgroup != -1 || !strings.Contains(rd.CgroupNote, "shares /supervisor with its parent") {
		t.Errorf("shared cgroup: %d %q", rd.Cgroup, rd.CgroupNote)
	}
	if rd := got[10]; len(rd.Children) != 2 || rd.RSS != 25*int64(os.Getpagesize()) || rd.TreeRSS != 3*rd.RSS || rd.CPU != 0.1 {
		t.Errorf("tree from the fake /proc: %+v", rd)
	}
}

func TestHost(t *testing.T) {
	r := newReader(t)
	h1, err := r.Host()
	if err != nil {
		t.Fatal(err)
	}
	if h1.MemTotal <= 0 || h1.MemAvailable <= 0 || h1.MemUsed() <= 0 || h1.MemUsed() >= 1 || h1.CPUs < 1 || h1.Total <= 0 {
		t.Errorf("host %+v", h1)
	}
	testsupport.WaitFor(t, 30*time.Second, "a CPU interval", func() bool {
		h2, err := r.Host()
		if err != nil {
			t.Fatal(err)
		}
		busy, ok := h2.BusySince(h1)
		return ok && busy >= 0 && busy <= 1
	})
	d, err := DiskFree(t.TempDir())
	if err != nil || d.Total <= 0 || d.Free < 0 || d.FreeShare() > 1 {
		t.Errorf("disk %+v %v", d, err)
	}
	if _, err := DiskFree("/nonexistent/path"); err == nil {
		t.Error("no error for a missing path")
	}
}
