package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
)

// The benchmarks play supervisord against a child process through real OS
// pipes, in lockstep: write one event (header and payload in one write), wait
// for RESULT 2\nOK and READY, repeat. They compare the eventlog binary with a
// minimal Python listener on supervisor's childutils (Debian's python3) and a
// minimal C listener (the floor). Goals: eventlog's throughput at least 95%
// of C's, idle RSS under 10 MB, exec to READY under 10 ms.
//
//	go test ./listeners/eventlog -run '^$' -bench .

// impl is one listener under test: how to start it.
type impl struct {
	name string
	argv func(b *testing.B) []string // skips b when the tool is missing
}

var impls = []impl{
	{"eventlog-quiet", func(b *testing.B) []string { return []string{buildEventlog(b), "-log-level", "warn"} }},
	{"eventlog-filtered", func(b *testing.B) []string { return []string{buildEventlog(b), "-events", "TICK_60"} }},
	{"eventlog-logging", func(b *testing.B) []string { return []string{buildEventlog(b)} }},
	{"python-childutils", pythonArgv},
	{"c", cArgv},
}

// startupImpls adds eventlog built by a plain `go build`, cgo on, to show
// what the shipped CGO_ENABLED=0 build (shippedEnv) saves at start.
// Stripping (-ldflags=-s -w) and -trimpath were measured too: the binary
// shrinks from 10.5 to 7.2 MB but starts no faster, so they are not used.
var startupImpls = append([]impl{
	{"eventlog-cgo-build", func(b *testing.B) []string {
		return []string{buildEventlogWith(b), "-log-level", "warn"}
	}},
	{"eventlog-before-skeleton", func(b *testing.B) []string {
		return []string{buildEventlogAt(b, beforeRev()), "-log-level", "warn"}
	}},
}, impls...)

// beforeSkeleton is the last commit before eventlog moved onto the shared
// listener skeleton (pkg/listener): the "before" of its start-up figures.
const beforeSkeleton = "6347fd9^"

// beforeRev is the revision BenchmarkStartup compares eventlog with:
// $SUPERGUARD_BENCH_BEFORE, else beforeSkeleton.
func beforeRev() string {
	if rev := os.Getenv("SUPERGUARD_BENCH_BEFORE"); rev != "" {
		return rev
	}
	return beforeSkeleton
}

// buildEventlogAt builds eventlog as it was at a git revision, the shipped
// way, from `git archive` into a temporary directory (the checkout is not
// touched). It skips b where there is no git history to build from, e.g. a
// shallow clone or a source tarball.
func buildEventlogAt(b *testing.B, rev string) string {
	b.Helper()
	key := "rev " + rev
	if bin, ok := built[key]; ok {
		return bin
	}
	src := b.TempDir()
	archive := exec.Command("sh", "-c", `cd "$(git rev-parse --show-toplevel)" && git archive --format=tar "$1" | tar -x -C "$2"`, "sh", rev, src)
	if out, err := archive.CombinedOutput(); err != nil {
		b.Skipf("no source of %s to build (a shallow clone?): %v\n%s", rev, err, out)
	}
	bin, err := buildCached(b, key, src, "./listeners/eventlog", shippedEnv)
	if err != nil {
		b.Skipf("eventlog at %s does not build here: %v", rev, err)
	}
	return bin
}

func pythonArgv(b *testing.B) []string {
	b.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import supervisor.childutils").Run(); err != nil {
		b.Skipf("%s cannot import supervisor.childutils (%v): install Debian's supervisor package", py, err)
	}
	script, err := filepath.Abs("testdata/childutils_listener.py")
	if err != nil {
		b.Fatal(err)
	}
	return []string{py, script}
}

func cArgv(b *testing.B) []string {
	b.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		b.Skip("no C compiler (cc) on PATH")
	}
	bin := filepath.Join(b.TempDir(), "listener")
	if out, err := exec.Command(cc, "-O2", "-o", bin, "testdata/listener.c").CombinedOutput(); err != nil {
		b.Fatalf("cc: %v\n%s", err, out)
	}
	return []string{bin}
}

// child is a listener process with its stdin and stdout on OS pipes.
type child struct {
	cmd   *exec.Cmd
	in    *os.File // its stdin
	out   *os.File // its stdout
	buf   []byte
	start time.Time
}

// startChild starts argv with stderr to a file in b.TempDir().
func startChild(b *testing.B, argv []string) *child {
	b.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(b.TempDir(), "stderr"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, stderr
	cmd.Env = append(os.Environ(), "SUPERVISOR_SERVER_URL=", "SUPERGUARD_LOG_LEVEL=")
	c := &child{cmd: cmd, in: inW, out: outR, buf: make([]byte, 0, 256)}
	c.start = time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	inR.Close()
	outW.Close()
	stderr.Close()
	b.Cleanup(c.stop)
	return c
}

// expect reads the child's stdout until it has exactly want.
func (c *child) expect(b *testing.B, want string) {
	c.buf = c.buf[:0]
	for len(c.buf) < len(want) {
		n, err := c.out.Read(c.buf[len(c.buf):cap(c.buf)])
		if err != nil {
			b.Fatalf("read from listener: %v (have %q, want %q)", err, c.buf, want)
		}
		c.buf = c.buf[:len(c.buf)+n]
	}
	if string(c.buf) != want {
		b.Fatalf("listener wrote %q, want %q", c.buf, want)
	}
}

// stop closes the child's stdin (EOF: every listener exits) and waits for
// it; it is idempotent.
func (c *child) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
	c.out.Close()
}

// frames are PROCESS_STATE_EXITED events with increasing serials (ASCII,
// so that the C floor's byte count is right).
func frames(n int) [][]byte {
	out := make([][]byte, n)
	payload := "processname:engine groupname:strategies from_state:RUNNING expected:0 pid:4242"
	for i := range out {
		h := eventlistener.Header{Ver: "3.0", Server: "supervisor", Serial: int64(i), Pool: "bench",
			PoolSerial: int64(i), EventName: "PROCESS_STATE_EXITED", Len: len(payload)}
		out[i] = []byte(h.String() + "\n" + payload)
	}
	return out
}

// lockstep sends n events to c and returns the elapsed time.
func lockstep(b *testing.B, c *child, fr [][]byte, n int) time.Duration {
	const answer = "RESULT 2\nOKREADY\n"
	start := time.Now()
	for i := range n {
		if _, err := c.in.Write(fr[i%len(fr)]); err != nil {
			b.Fatal(err)
		}
		c.expect(b, answer)
	}
	return time.Since(start)
}

// BenchmarkThroughput reports events/s through each listener (an op is one
// event), and the CPU time (user + system, all threads) the listener spent
// per event.
//
// figure: events/s
// figure: cpu-µs/event
// versus: a Python childutils listener: BenchmarkThroughput/python-childutils
// versus: a C listener (the floor): BenchmarkThroughput/c
func BenchmarkThroughput(b *testing.B) {
	fr := frames(4096)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			c := startChild(b, im.argv(b))
			c.expect(b, "READY\n")
			b.ResetTimer()
			d := lockstep(b, c, fr, b.N)
			b.StopTimer()
			c.stop()
			b.ReportMetric(float64(b.N)/d.Seconds(), "events/s")
			if ps := c.cmd.ProcessState; ps != nil {
				cpu := ps.UserTime() + ps.SystemTime()
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
			}
		})
	}
}

// BenchmarkStartup reports the median time from exec to READY and the
// median idle RSS after READY (an op is one listener start).
//
// goal: idle-RSS-kB < 10240
// goal: ms-to-READY < 10
// versus: a Python childutils listener: BenchmarkStartup/python-childutils
// versus: a C listener (the floor): BenchmarkStartup/c
// versus: eventlog built with cgo (not shipped): BenchmarkStartup/eventlog-cgo-build
// versus: eventlog before the listener skeleton ($SUPERGUARD_BENCH_BEFORE, default 6347fd9^): BenchmarkStartup/eventlog-before-skeleton
func BenchmarkStartup(b *testing.B) {
	for _, im := range startupImpls {
		b.Run(im.name, func(b *testing.B) {
			argv := im.argv(b)
			var ready, rss []float64
			for b.Loop() {
				c := startChild(b, argv)
				c.expect(b, "READY\n")
				ready = append(ready, float64(time.Since(c.start).Microseconds())/1000)
				b.StopTimer()
				rss = append(rss, testsupport.RSSKB(b, c.cmd.Process.Pid))
				c.stop()
				b.StartTimer()
			}
			b.ReportMetric(testsupport.Median(ready), "ms-to-READY")
			b.ReportMetric(testsupport.Median(rss), "idle-RSS-kB")
		})
	}
}

// BenchmarkVersusC alternates rounds of eventlog (quiet) and the C listener
// so that both see the same machine load, and reports eventlog's median
// throughput as a percentage of C's (goal: at least 95), each one's median
// events/s, and each one's CPU time per event over all rounds.
//
// goal: %-of-C >= 95
// versus: eventlog's events/s: eventlog-events/s
// versus: the C listener's events/s, in the rounds between: c-events/s
// versus: a Python childutils listener (BenchmarkThroughput): BenchmarkThroughput/python-childutils events/s
func BenchmarkVersusC(b *testing.B) {
	ours := startChild(b, impls[0].argv(b))
	floor := startChild(b, cArgv(b))
	ours.expect(b, "READY\n")
	floor.expect(b, "READY\n")
	fr := frames(4096)
	const round = 2000
	var pct, oursRate, cRate []float64
	oursCPU0, cCPU0 := cpuTime(b, ours), cpuTime(b, floor)
	for b.Loop() {
		d1 := lockstep(b, ours, fr, round)
		d2 := lockstep(b, floor, fr, round)
		oursRate = append(oursRate, round/d1.Seconds())
		cRate = append(cRate, round/d2.Seconds())
		pct = append(pct, 100*d2.Seconds()/d1.Seconds())
	}
	events := float64(len(pct) * round)
	b.ReportMetric(testsupport.Median(pct), "%-of-C")
	b.ReportMetric(testsupport.Median(oursRate), "eventlog-events/s")
	b.ReportMetric(testsupport.Median(cRate), "c-events/s")
	b.ReportMetric(float64((cpuTime(b, ours)-oursCPU0).Microseconds())/events, "eventlog-cpu-µs/event")
	b.ReportMetric(float64((cpuTime(b, floor)-cCPU0).Microseconds())/events, "c-cpu-µs/event")
}

// cpuTime returns the user + system time the child has used so far.
func cpuTime(b *testing.B, c *child) time.Duration { return testsupport.CPUTime(b, c.cmd.Process.Pid) }
