// Command benchreport turns the output of `go test -bench` (as `make bench`
// runs it, one package after another) into BENCHMARKS.md: the machine,
// each figure that has a goal beside that goal and beside what it was
// measured against in the same run, every other result, and every
// benchmark that was skipped or failed with the reason it gave.
//
//	benchreport -in bin/bench.txt -out BENCHMARKS.md [-command 'make bench'] [-supervisord PATH]
//
// The goals live in goals.go, one entry per figure, named by package,
// benchmark and metric; a goal whose benchmark did not run is reported as
// not run, never dropped.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	in := flag.String("in", "-", "benchmark output (- for stdin)")
	out := flag.String("out", "BENCHMARKS.md", "report to write")
	command := flag.String("command", "make bench", "the command that produced the output, for the report")
	supervisord := flag.String("supervisord", os.Getenv("SUPERGUARD_SUPERVISORD"), "supervisord used, for its version")
	load0 := flag.String("load-before", "", "the load average when the run started (/proc/loadavg)")
	flag.Parse()
	r := os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
			os.Exit(1)
		}
		defer f.Close()
		r = f
	}
	run, err := parse(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
		os.Exit(1)
	}
	m := machine(*supervisord, *load0)
	var b strings.Builder
	write(&b, run, m, *command)
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("benchreport: %s: %d results, %d skipped, %d failed\n", *out, len(run.Results), len(run.Skipped), len(run.Failed))
}

// result is one benchmark line.
type result struct {
	Pkg     string
	Name    string // without the -GOMAXPROCS suffix
	N       int
	Metrics map[string]float64
	Order   []string // metric units in the order reported
}

// outcome is a benchmark that did not produce a result.
type outcome struct {
	Pkg, Name, Reason string
}

// run is everything parsed.
type run struct {
	Results []result
	Skipped []outcome
	Failed  []outcome
	CPU     string // the cpu: line
	GOOS    string
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)
	skipLine  = regexp.MustCompile(`^\s*--- (SKIP|FAIL): (Benchmark\S+?)(?:-\d+)?(?: \([0-9.]+s\))?$`)
	failPkg   = regexp.MustCompile(`^FAIL\s+(\S+)`)
)

// parse reads go test -bench text output.
func parse(r io.Reader) (run, error) {
	var out run
	var pkg string
	var pending *outcome // a SKIP or FAIL waiting for its reason line
	var pendingFail bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	flush := func() {
		if pending == nil {
			return
		}
		if pendingFail {
			out.Failed = append(out.Failed, *pending)
		} else {
			out.Skipped = append(out.Skipped, *pending)
		}
		pending = nil
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			flush()
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "cpu: "):
			out.CPU = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "goos: "):
			out.GOOS = strings.TrimPrefix(line, "goos: ")
		case skipLine.MatchString(line):
			flush()
			m := skipLine.FindStringSubmatch(line)
			pending, pendingFail = &outcome{Pkg: pkg, Name: m[2]}, m[1] == "FAIL"
		case pending != nil && strings.HasPrefix(line, "    ") && pending.Reason == "":
			// The first indented line under --- SKIP/FAIL is t.Log's
			// "file.go:NN: reason".
			reason := strings.TrimSpace(line)
			if i := strings.Index(reason, ": "); i > 0 && strings.Contains(reason[:i], ".go:") {
				reason = reason[i+2:]
			}
			pending.Reason = reason
		case benchLine.MatchString(line):
			flush()
			m := benchLine.FindStringSubmatch(line)
			n, _ := strconv.Atoi(m[2])
			res := result{Pkg: pkg, Name: m[1], N: n, Metrics: map[string]float64{}}
			f := strings.Fields(m[3])
			for i := 0; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					continue
				}
				res.Metrics[f[i+1]] = v
				res.Order = append(res.Order, f[i+1])
			}
			out.Results = append(out.Results, res)
		case failPkg.MatchString(line):
			flush()
			p := failPkg.FindStringSubmatch(line)[1]
			if !slices.ContainsFunc(out.Failed, func(o outcome) bool { return o.Pkg == p }) {
				out.Failed = append(out.Failed, outcome{Pkg: p, Name: "(package)", Reason: "the package's benchmarks failed: see the raw output"})
			}
		}
	}
	flush()
	return out, sc.Err()
}

// find returns the result of bench in a package ending in pkg.
func (r run) find(pkg, bench string) (result, bool) {
	for _, res := range r.Results {
		if res.Name == bench && (pkg == "" || strings.HasSuffix(res.Pkg, "/"+pkg) || res.Pkg == pkg) {
			return res, true
		}
	}
	return result{}, false
}

// whyNot says why bench produced no result: its skip or failure reason.
func (r run) whyNot(pkg, bench string) string {
	for _, list := range []struct {
		what string
		o    []outcome
	}{{"skipped", r.Skipped}, {"failed", r.Failed}} {
		for _, o := range list.o {
			if strings.HasSuffix(o.Pkg, "/"+pkg) && (o.Name == bench || strings.HasPrefix(bench, o.Name+"/") || o.Name == "(package)") {
				return list.what + ": " + o.Reason
			}
		}
	}
	return "not in this run's output"
}

// met reports whether v meets the goal.
func (g goal) met(v float64) bool {
	switch g.Op {
	case "<":
		return v < g.Target
	case "<=":
		return v <= g.Target
	case ">":
		return v > g.Target
	default:
		return v >= g.Target
	}
}

// num formats a figure with its unit.
func num(v float64, unit string) string {
	var s string
	switch {
	case v == 0:
		s = "0"
	case v >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if len(s) > 3 && !strings.Contains(s, ".") {
		// thousands separators for big numbers
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		s = b.String()
	}
	return s + " " + unit
}

// machineInfo describes where the benchmarks ran.
type machineInfo struct {
	CPU, Cores, Memory, Kernel, Go, Supervisord, Load, Date, Commit string
}

func machine(supervisord, loadBefore string) machineInfo {
	m := machineInfo{Cores: strconv.Itoa(runtime.NumCPU()), Go: runtime.Version(), Date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
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
			if strings.HasPrefix(line, "MemTotal:") {
				f := strings.Fields(line)
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
		now := strings.Join(strings.Fields(string(b))[:3], " ")
		m.Load = "at the end " + now
		if loadBefore != "" {
			m.Load = "at the start " + strings.Join(strings.Fields(loadBefore)[:3], " ") + ", " + m.Load
		}
	}
	if supervisord != "" {
		if b, err := exec.Command(supervisord, "--version").Output(); err == nil {
			m.Supervisord = strings.TrimSpace(string(b)) + " (" + supervisord + ")"
		}
	}
	if b, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(b))
	}
	return m
}

// write renders the report.
func write(w *strings.Builder, r run, m machineInfo, command string) {
	fmt.Fprintf(w, "# Benchmarks\n\nWritten by `%s` (scripts/benchreport from the benchmarks' output). Each figure is "+
		"measured in the same run as what it is compared with; the goals are those the issues set.\n\n", command)
	fmt.Fprintf(w, "| machine | |\n|---|---|\n")
	for _, kv := range [][2]string{{"CPU", m.CPU}, {"cores", m.Cores}, {"memory", m.Memory}, {"kernel", m.Kernel},
		{"Go", m.Go}, {"supervisord", m.Supervisord}, {"load average", m.Load}, {"date", m.Date}, {"commit", m.Commit}} {
		if kv[1] == "" {
			kv[1] = "unknown"
		}
		fmt.Fprintf(w, "| %s | %s |\n", kv[0], kv[1])
	}
	fmt.Fprintf(w, "\nA loaded machine (load average above its cores) makes latencies longer and noisier.\n")

	fmt.Fprintf(w, "\n## Goals\n\n| figure | measured | goal | | compared with, same run |\n|---|---|---|---|---|\n")
	for _, g := range goals {
		res, ok := r.find(g.Pkg, g.Bench)
		v, has := res.Metrics[g.Metric]
		if !ok || !has {
			fmt.Fprintf(w, "| %s | not run (%s) | %s %s | | |\n", g.What, r.whyNot(g.Pkg, g.Bench), g.Op, num(g.Target, g.Metric))
			continue
		}
		mark := "met"
		if !g.met(v) {
			mark = "**missed**"
		}
		var vs []string
		for _, ref := range g.Versus {
			pkg, bench := cmpOr(ref.Pkg, g.Pkg), cmpOr(ref.Bench, g.Bench)
			o, ok := r.find(pkg, bench)
			ov, has := o.Metrics[ref.Metric]
			if !ok || !has {
				vs = append(vs, ref.Label+": not run ("+r.whyNot(pkg, bench)+")")
				continue
			}
			vs = append(vs, ref.Label+": "+num(ov, ref.Metric))
		}
		fmt.Fprintf(w, "| %s | %s | %s %s | %s | %s |\n", g.What, num(v, g.Metric), g.Op, num(g.Target, g.Metric), mark, strings.Join(vs, "; "))
	}

	fmt.Fprintf(w, "\n## Every result\n")
	var pkgs []string
	for _, res := range r.Results {
		if !slices.Contains(pkgs, res.Pkg) {
			pkgs = append(pkgs, res.Pkg)
		}
	}
	for _, p := range pkgs {
		fmt.Fprintf(w, "\n### %s\n\n| benchmark | runs | figures |\n|---|---|---|\n", p)
		for _, res := range r.Results {
			if res.Pkg != p {
				continue
			}
			var figs []string
			for _, unit := range res.Order {
				figs = append(figs, num(res.Metrics[unit], unit))
			}
			fmt.Fprintf(w, "| %s | %d | %s |\n", res.Name, res.N, strings.Join(figs, ", "))
		}
	}
	if len(r.Skipped)+len(r.Failed) > 0 {
		fmt.Fprintf(w, "\n## Not run\n\n| package | benchmark | why |\n|---|---|---|\n")
		for _, o := range r.Skipped {
			fmt.Fprintf(w, "| %s | %s | skipped: %s |\n", o.Pkg, o.Name, o.Reason)
		}
		for _, o := range r.Failed {
			fmt.Fprintf(w, "| %s | %s | **failed**: %s |\n", o.Pkg, o.Name, o.Reason)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
