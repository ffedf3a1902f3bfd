package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// maxLogs is how many log entries of one result the report shows (the
// last ones: a benchmark that logs in every b.N round logs its final
// round last).
const maxLogs = 10

// summary counts what a report says.
type summary struct {
	Results, Met, NotMet, NoFigure, Skipped, Failed int
}

func (s summary) String() string {
	return fmt.Sprintf("%d results; goals: %d met, %d not met, %d without a figure; %d benchmarks skipped, %d failed or absent",
		s.Results, s.Met, s.NotMet, s.NoFigure, s.Skipped, s.Failed)
}

// write renders the report of o, the goals and comparisons of src, on
// machine m, to w.
func write(w io.Writer, o output, src source, m machineInfo, command string) summary {
	sum := summary{Results: len(o.Results), Skipped: len(o.Skipped)}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	short := func(pkg string) string { return strings.TrimPrefix(pkg, src.Module+"/") }

	p("# Benchmarks\n\n")
	p("Written by `%s`: scripts/benchreport read the output of `go test -v -bench` (kept in bin/bench.txt) "+
		"and the `goal:`, `figure:` and `versus:` lines of each benchmark's doc comment. "+
		"A comparison is always a figure of the same run, on the same machine. Regenerate it with `make bench`; "+
		"do not edit it by hand.\n\n", command)
	p("| machine | |\n|---|---|\n")
	for _, kv := range [][2]string{
		{"CPU", m.CPU}, {"cores", strconv.Itoa(m.Cores)}, {"memory", m.Memory}, {"kernel", m.Kernel},
		{"Go", m.Go}, {"supervisord", m.Supervisord},
		{"load average (1, 5, 15 min)", "at the start " + loadString(m.LoadBefore) + "; at the end " + loadString(m.LoadAfter)},
		{"date", m.Date}, {"commit", m.Commit},
	} {
		p("| %s | %s |\n", kv[0], cell(cmpOr(kv[1], "unknown")))
	}
	p("\n")
	if loaded(m) {
		p("**The machine was loaded while the benchmarks ran** (a 1-minute load average above its %d cores at the start or the end): "+
			"latencies are longer and every figure noisier than on an idle machine. Comparisons of the same run still saw the same load.\n\n", m.Cores)
	} else {
		p("The 1-minute load average was at most the number of cores at the start and at the end of the run; " +
			"other work on the machine between those two readings would not show here.\n\n")
	}

	// Goals and headline figures, package by package.
	var goalRows strings.Builder
	lastPkg := ""
	for _, s := range src.Specs {
		if len(s.Goals) == 0 {
			continue
		}
		if s.Pkg != lastPkg {
			fmt.Fprintf(&goalRows, "\n### %s\n\n| benchmark | metric | measured | goal | | compared with, same run |\n|---|---|---|---|---|---|\n", short(s.Pkg))
			lastPkg = s.Pkg
		}
		for _, subject := range o.subjects(s) {
			res, ran := o.result(s.Pkg, subject)
			for _, g := range s.Goals {
				target, status := "", ""
				if g.Op != "" {
					target = g.Op + " " + num(g.Target)
				}
				measured := ""
				switch v, ok := res.Metrics[g.Metric]; {
				case !ran:
					measured, status = o.why(s.Pkg, subject), "not run"
					sum.NoFigure += b2i(g.Op != "")
				case !ok:
					measured, status = "the benchmark ran without reporting this metric", "**not reported**"
					sum.NoFigure += b2i(g.Op != "")
				default:
					measured = num(v)
					switch {
					case g.Op == "":
					case g.met(v):
						status = "met"
						sum.Met++
					default:
						status = "**not met**"
						sum.NotMet++
					}
				}
				var vs []string
				for _, v := range append(slices.Clone(s.Versus), g.Versus...) {
					c, ok := o.compare(s.Pkg, subject, g.Metric, v)
					if ran || ok { // beside a figure that did not run, only comparisons that did
						vs = append(vs, c)
					}
				}
				fmt.Fprintf(&goalRows, "| `%s` | `%s` | %s | %s | %s | %s |\n",
					subject, g.Metric, cell(measured), cell(target), status, cell(strings.Join(vs, "; ")))
			}
		}
	}
	notRun := o.notRun(src.Specs)
	for _, n := range notRun {
		if n.failed {
			sum.Failed++
		}
	}
	p("**Goals: %d met, %d not met, %d without a figure** (skipped, failed or not run). "+
		"Benchmarks: %d results, %d skipped, %d failed or absent from the output.\n\n",
		sum.Met, sum.NotMet, sum.NoFigure, sum.Results, sum.Skipped, sum.Failed)
	if goalRows.Len() > 0 {
		p("## Goals\n\nEach goal holds every result of its benchmark except the comparisons; a figure without a goal shows no target.\n")
		p("%s", goalRows.String())
		p("\n")
	}

	// Everything that did not produce a result.
	p("## Skipped, failed or not run\n\n")
	if len(notRun) == 0 {
		p("Every benchmark ran and passed.\n\n")
	} else {
		p("| package | benchmark | why |\n|---|---|---|\n")
		for _, n := range notRun {
			p("| %s | `%s` | %s |\n", short(n.pkg), n.name, cell(n.why))
		}
		p("\n")
	}

	// Every result.
	p("## Every result\n")
	labels := map[[2]string]string{} // pkg, result name: its comparison label
	for _, s := range src.Specs {
		for _, res := range o.Results {
			if res.Pkg == s.Pkg {
				if l, ok := s.comparison(res.Name); ok {
					labels[[2]string{res.Pkg, res.Name}] = l
				}
			}
		}
	}
	for _, pkg := range o.packages() {
		status := ""
		if pr, ok := o.pkgRun(pkg); ok {
			status = " (ok, " + pr.Elapsed + ")"
			if !pr.OK {
				status = " (**FAIL** " + strings.TrimSpace(pr.Elapsed+" "+pr.Reason) + ")"
			}
		}
		p("\n### %s%s\n\n", short(pkg), status)
		var logged strings.Builder
		first := true
		for _, res := range o.Results {
			if res.Pkg != pkg {
				continue
			}
			if first {
				p("| benchmark | iterations | figures |\n|---|---|---|\n")
				first = false
			}
			name := "`" + res.Name + "`"
			if l, ok := labels[[2]string{res.Pkg, res.Name}]; ok {
				name += " (comparison: " + l + ")"
			}
			var figs []string
			for _, unit := range res.Order {
				figs = append(figs, num(res.Metrics[unit])+" "+unit)
			}
			p("| %s | %d | %s |\n", cell(name), res.N, cell(strings.Join(figs, ", ")))
			var logs []string // a benchmark run for several b.N logs the same lines again
			for _, l := range res.Logs {
				if !slices.Contains(logs, l) {
					logs = append(logs, l)
				}
			}
			if len(logs) > maxLogs {
				fmt.Fprintf(&logged, "%s: (%d earlier entries left out)\n", res.Name, len(logs)-maxLogs)
				logs = logs[len(logs)-maxLogs:]
			}
			for _, l := range logs {
				fmt.Fprintf(&logged, "%s: %s\n", res.Name, strings.ReplaceAll(l, "\n", "\n    "))
			}
		}
		if first {
			p("No result.\n")
		}
		if logged.Len() > 0 {
			p("\nLogged:\n\n```\n%s```\n", logged.String())
		}
	}
	return sum
}

// subjects are the results (or, when they did not run, the names) of s
// that its goals hold: every result of its benchmark that is not a
// comparison, and every such sub-benchmark that skipped or failed; when
// there is none, the benchmark itself.
func (o output) subjects(s spec) []string {
	var names []string
	add := func(pkg, name string) {
		if pkg != s.Pkg || !s.owns(name) || slices.Contains(names, name) {
			return
		}
		if _, cmp := s.comparison(name); cmp {
			return
		}
		names = append(names, name)
	}
	for _, r := range o.Results {
		add(r.Pkg, r.Name)
	}
	for _, list := range [][]outcome{o.Skipped, o.Failed} {
		for _, x := range list {
			// A parent whose sub-benchmark failed fails too: it is not a
			// subject of its own when a sub-benchmark is.
			if x.Name != s.Name || len(names) == 0 {
				add(x.Pkg, x.Name)
			}
		}
	}
	if len(names) == 0 {
		names = append(names, s.Name)
	}
	return names
}

// compare renders one comparison of the goal on metric of result subject,
// and whether it has a figure.
func (o output) compare(pkg, subject, metric string, v versus) (string, bool) {
	name := cmpOr(v.Bench, subject)
	m := cmpOr(v.Metric, metric)
	res, ok := o.result(pkg, name)
	if !ok {
		return v.Label + ": not run (" + o.why(pkg, name) + ")", false
	}
	x, ok := res.Metrics[m]
	if !ok {
		return v.Label + ": not reported (`" + name + "` reported no `" + m + "`)", false
	}
	s := v.Label + ": " + num(x)
	if m != metric {
		s += " `" + m + "`"
	}
	return s, true
}

// result returns the result named name of package pkg.
func (o output) result(pkg, name string) (result, bool) {
	for _, r := range o.Results {
		if r.Pkg == pkg && r.Name == name {
			return r, true
		}
	}
	return result{}, false
}

// why says why name of pkg has no result: its skip or failure reason (or
// one of a parent benchmark's), its package's failure, or its absence.
func (o output) why(pkg, name string) string {
	for n := name; ; {
		for _, x := range o.Skipped {
			if x.Pkg == pkg && x.Name == n {
				return "skipped: " + cmpOr(x.Reason, "no reason given")
			}
		}
		for _, x := range o.Failed {
			if x.Pkg == pkg && x.Name == n && (x.Reason != "" || n == name) {
				return "failed: " + cmpOr(x.Reason, "no reason given")
			}
		}
		i := strings.LastIndex(n, "/")
		if i < 0 {
			break
		}
		n = n[:i]
	}
	pr, ok := o.pkgRun(pkg)
	switch {
	case !ok:
		return "not in the output: its package did not run"
	case !pr.OK:
		return "not in the output: its package failed (" + cmpOr(pr.Reason, "see bin/bench.txt") + ")"
	}
	return "not in the output"
}

// pkgRun returns the closing line of pkg.
func (o output) pkgRun(pkg string) (pkgRun, bool) {
	for _, p := range o.Packages {
		if p.Path == pkg {
			return p, true
		}
	}
	return pkgRun{}, false
}

// packages lists the packages of the output, in order.
func (o output) packages() []string {
	var pkgs []string
	for _, p := range o.Packages {
		if !slices.Contains(pkgs, p.Path) {
			pkgs = append(pkgs, p.Path)
		}
	}
	for _, r := range o.Results { // a package cut short has no closing line
		if !slices.Contains(pkgs, r.Pkg) {
			pkgs = append(pkgs, r.Pkg)
		}
	}
	return pkgs
}

// missing is one line of the not-run table.
type missing struct {
	pkg, name, why string
	failed         bool
}

// notRun lists every benchmark that skipped or failed, every benchmark of
// the sources that left no trace in the output, and every failed package.
func (o output) notRun(specs []spec) []missing {
	var out []missing
	for _, x := range o.Skipped {
		out = append(out, missing{pkg: x.Pkg, name: x.Name, why: "skipped: " + cmpOr(x.Reason, "no reason given")})
	}
	for _, x := range o.Failed {
		childFailed := slices.ContainsFunc(o.Failed, func(y outcome) bool {
			return y.Pkg == x.Pkg && strings.HasPrefix(y.Name, x.Name+"/")
		})
		if x.Reason == "" && childFailed {
			continue // the failure is its sub-benchmark's, listed on its own
		}
		out = append(out, missing{pkg: x.Pkg, name: x.Name, why: "**failed**: " + cmpOr(x.Reason, "no reason given"), failed: true})
	}
	for _, s := range specs {
		traced := func(name string) bool { return s.owns(name) }
		if slices.ContainsFunc(o.Results, func(r result) bool { return r.Pkg == s.Pkg && traced(r.Name) }) ||
			slices.ContainsFunc(o.Skipped, func(x outcome) bool { return x.Pkg == s.Pkg && traced(x.Name) }) ||
			slices.ContainsFunc(o.Failed, func(x outcome) bool { return x.Pkg == s.Pkg && traced(x.Name) }) {
			continue
		}
		out = append(out, missing{pkg: s.Pkg, name: s.Name, why: o.why(s.Pkg, s.Name), failed: true})
	}
	for _, p := range o.Packages {
		if !p.OK && !slices.ContainsFunc(out, func(m missing) bool { return m.pkg == p.Path && m.failed }) {
			out = append(out, missing{pkg: p.Path, name: "(package)", why: "**failed**: " + cmpOr(p.Reason, "see bin/bench.txt"), failed: true})
		}
	}
	return out
}

// loaded reports whether the 1-minute load average exceeded the cores at
// the start or the end of the run.
func loaded(m machineInfo) bool {
	for _, l := range [][]float64{m.LoadBefore, m.LoadAfter} {
		if len(l) > 0 && l[0] > float64(m.Cores) {
			return true
		}
	}
	return false
}

func loadString(l []float64) string {
	if len(l) == 0 {
		return "unknown"
	}
	var s []string
	for _, x := range l {
		s = append(s, strconv.FormatFloat(x, 'f', 2, 64))
	}
	return strings.Join(s, " ")
}

// num formats a figure with three significant digits, whole numbers from
// 100 up, with thousands separators.
func num(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	a := math.Abs(v)
	if a >= 100 || v == math.Trunc(v) {
		s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		if neg {
			return "-" + b.String()
		}
		return b.String()
	}
	decimals := 2 - int(math.Floor(math.Log10(a)))
	return strconv.FormatFloat(v, 'f', min(decimals, 9), 64)
}

// cell makes s safe in a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
