// Command benchreport turns the output of `go test -v -bench` (as
// `make bench` runs it, one package after another) into BENCHMARKS.md:
// the machine, each headline figure beside its goal and beside what it was
// measured against in the same run, every benchmark that was skipped,
// failed or did not run with the reason the output gives, and every
// result.
//
//	benchreport -in bin/bench.txt -out BENCHMARKS.md [-src .] [-supervisord PATH] [-load-before "$(cat /proc/loadavg)"]
//
// The goals and comparisons are not kept here: they are lines in each
// benchmark's doc comment, read from the source (-src, a Go module), next
// to the code that reports the metrics. For example:
//
//	// BenchmarkStartup reports the median time from exec to READY ...
//	//
//	// goal: idle-RSS-kB < 10240
//	// versus: a C listener (the floor): BenchmarkStartup/c
//
// The lines are:
//
//   - goal: METRIC OP NUMBER holds METRIC (a unit the benchmark reports)
//     to a target, OP one of < <= > >=, on every result of the benchmark
//     (each sub-benchmark) that is not a comparison;
//   - figure: METRIC is a headline figure without a goal;
//   - versus: LABEL: BenchmarkX/sub names a result of the same package
//     that this benchmark is compared with, on each goal's metric; that
//     result is a comparison, never held to the goals;
//   - versus: LABEL: METRIC (a metric of the same result) or versus:
//     LABEL: BenchmarkX/sub METRIC compares the goal or figure line just
//     above with that metric.
//
// A goal whose benchmark did not run is reported with the skip or failure
// reason (or "not in the output"), and one whose benchmark ran without
// reporting its metric says so: a renamed metric shows up in the report
// instead of dropping a goal. The tests check that every metric a doc
// comment names is one a benchmark of its package can report.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// run parses the flags, reads the sources and the output, and writes the
// report; it returns the exit code.
func run(args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fl.SetOutput(stderr)
	in := fl.String("in", "-", "the output of go test -v -bench (- for stdin)")
	out := fl.String("out", "BENCHMARKS.md", "the report to write")
	src := fl.String("src", ".", "the module whose benchmarks ran (their doc comments hold the goals)")
	command := fl.String("command", "make bench", "the command that produced the output, for the report")
	supervisord := fl.String("supervisord", os.Getenv("SUPERGUARD_SUPERVISORD"), "the supervisord the benchmarks used, for its version")
	load0 := fl.String("load-before", "", "the load average when the run started (/proc/loadavg)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "benchreport: %v\n", err)
		return 1
	}
	specs, err := readSpecs(os.DirFS(*src))
	if err != nil {
		return fail(err)
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		r = f
	}
	parsed, err := parse(r)
	if err != nil {
		return fail(err)
	}
	m := machine(*src, *supervisord, *load0)
	f, err := os.Create(*out)
	if err != nil {
		return fail(err)
	}
	w := bufio.NewWriter(f)
	sum := write(w, parsed, specs, m, *command)
	if err := w.Flush(); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "benchreport: wrote %s: %s\n", *out, sum)
	return 0
}

// machineInfo describes where and when the benchmarks ran.
type machineInfo struct {
	CPU, Memory, Kernel, Go, Supervisord, Date, Commit string
	Cores                                              int
	LoadBefore, LoadAfter                              []float64 // 1, 5 and 15 minute load averages
}

func machine(src, supervisord, loadBefore string) machineInfo {
	m := machineInfo{Cores: runtime.NumCPU(), Go: runtime.Version(), Date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					m.Memory = fmt.Sprintf("%.1f GiB", kb/1024/1024)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAfter = parseLoad(string(b))
	}
	m.LoadBefore = parseLoad(loadBefore)
	if supervisord != "" {
		if b, err := exec.Command(supervisord, "--version").Output(); err == nil {
			m.Supervisord = strings.TrimSpace(string(b)) + " (" + supervisord + ")"
		}
	}
	git := exec.Command("git", "describe", "--always", "--dirty")
	git.Dir = src
	if b, err := git.Output(); err == nil {
		m.Commit = strings.TrimSpace(string(b))
	}
	return m
}

// parseLoad reads the three load averages of a /proc/loadavg line.
func parseLoad(s string) []float64 {
	f := strings.Fields(s)
	if len(f) < 3 {
		return nil
	}
	var l []float64
	for _, x := range f[:3] {
		v, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return nil
		}
		l = append(l, v)
	}
	return l
}
