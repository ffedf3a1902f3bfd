package main

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// result is one benchmark result line.
type result struct {
	Pkg     string
	Name    string // without the -GOMAXPROCS suffix
	N       int
	Metrics map[string]float64
	Order   []string // metric units in the order reported
	Logs    []string // what it logged (b.Log), oldest first
}

// outcome is a benchmark that skipped or failed, with the reason it gave
// (its last log entry).
type outcome struct {
	Pkg, Name, Reason string
}

// pkgRun is one package's closing line: ok or FAIL.
type pkgRun struct {
	Path    string
	OK      bool
	Elapsed string // e.g. 281.244s; empty when it did not build
	Reason  string // why a failed package failed, when the output says
}

// output is the whole output of go test -bench, one package after another.
type output struct {
	Results  []result
	Skipped  []outcome
	Failed   []outcome
	Packages []pkgRun
	CPU      string // the cpu: line
}

var (
	nameLine   = regexp.MustCompile(`^(Benchmark\S*)$`)
	resultLine = regexp.MustCompile(`^(Benchmark\S*?)(?:-\d+)?\s+(\d+)\s+(.*\S)\s*$`)
	statusLine = regexp.MustCompile(`^--- (SKIP|FAIL|BENCH): (Benchmark\S*)(?: \([0-9.]+s\))?$`)
	okLine     = regexp.MustCompile(`^ok\s+(\S+)\s+(\S+)`)
	failLine   = regexp.MustCompile(`^FAIL\s+(\S+)\s+(.*)$`)
	logLine    = regexp.MustCompile(`^    \s*\S`)
	logPrefix  = regexp.MustCompile(`^[\w.-]+\.go:\d+: `)
	procSuffix = regexp.MustCompile(`-\d+$`)
	procsOnly  = regexp.MustCompile(`^-\d+$`)
)

// parse reads the text output of go test -v -bench (several packages in
// turn). -v matters: without it go test prints no line for a skipped
// benchmark, and a skip reason would be lost. The plain format (logs
// under --- BENCH:) parses too.
func parse(r io.Reader) (output, error) {
	var out output
	var (
		pkg      string
		cur      string                  // the benchmark running (its -v name line)
		logs     = map[string][]string{} // log entries by benchmark, since its name line
		logsOf   string                  // whose log the last entry was
		panicMsg string                  // a panic in the current package
		buildPkg string                  // the package of a "# pkg" build error block
		buildErr = map[string]string{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if buildPkg != "" {
			if _, seen := buildErr[buildPkg]; !seen && strings.TrimSpace(line) != "" {
				buildErr[buildPkg] = strings.TrimSpace(line)
				continue
			}
			buildPkg = ""
		}
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg, cur, logsOf, panicMsg = strings.TrimPrefix(line, "pkg: "), "", "", ""
			clear(logs)
		case strings.HasPrefix(line, "cpu: "):
			out.CPU = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "# ") && len(strings.Fields(line)) > 1:
			buildPkg = strings.Fields(line)[1]
		case strings.HasPrefix(line, "panic: "):
			panicMsg = line
			if cur != "" {
				out.Failed = append(out.Failed, outcome{Pkg: pkg, Name: cur, Reason: line})
			}
		case statusLine.MatchString(line):
			m := statusLine.FindStringSubmatch(line)
			name := m[2]
			if m[1] == "BENCH" { // plain format: the logs follow
				name = procSuffix.ReplaceAllString(name, "")
				cur, logsOf = name, name
				logs[name] = nil
				continue
			}
			o := outcome{Pkg: pkg, Name: name}
			if l := logs[name]; len(l) > 0 {
				o.Reason = l[len(l)-1]
			}
			if m[1] == "SKIP" {
				out.Skipped = append(out.Skipped, o)
			} else {
				out.Failed = append(out.Failed, o)
			}
			logsOf = ""
		case logLine.MatchString(line) && cur != "":
			l := logs[cur]
			if strings.HasPrefix(line, "        ") && logsOf == cur && len(l) > 0 {
				l[len(l)-1] += "\n" + strings.TrimSpace(line) // a multi-line log entry goes on
			} else {
				l = append(l, logPrefix.ReplaceAllString(strings.TrimSpace(line), ""))
			}
			logs[cur], logsOf = l, cur
			if n := len(out.Results); n > 0 && out.Results[n-1].Pkg == pkg && out.Results[n-1].Name == cur {
				out.Results[n-1].Logs = l // plain format: the logs of the result above
			}
		case nameLine.MatchString(line):
			cur, logsOf = line, ""
			logs[cur] = nil
		case resultLine.MatchString(line):
			m := resultLine.FindStringSubmatch(line)
			name := m[1]
			// -v named it on the line before: trust that name over the
			// regexp, which cannot tell a -N sub-benchmark name from the
			// -GOMAXPROCS suffix.
			if cur != "" && strings.HasPrefix(line, cur) {
				tok := line[len(cur):]
				if i := strings.IndexAny(tok, " \t"); i >= 0 {
					tok = tok[:i]
				}
				if tok == "" || procsOnly.MatchString(tok) {
					name = cur
				}
			}
			n, _ := strconv.Atoi(m[2])
			res := result{Pkg: pkg, Name: name, N: n, Metrics: map[string]float64{}, Logs: logs[name]}
			f := strings.Fields(m[3])
			for i := 0; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					continue
				}
				if _, dup := res.Metrics[f[i+1]]; !dup {
					res.Order = append(res.Order, f[i+1])
				}
				res.Metrics[f[i+1]] = v
			}
			out.Results = append(out.Results, res)
			logsOf = ""
		case okLine.MatchString(line):
			m := okLine.FindStringSubmatch(line)
			out.Packages = append(out.Packages, pkgRun{Path: m[1], OK: true, Elapsed: m[2]})
			cur = ""
		case failLine.MatchString(line):
			m := failLine.FindStringSubmatch(line)
			p := pkgRun{Path: m[1], Reason: panicMsg}
			switch rest := strings.TrimSpace(m[2]); {
			case strings.HasPrefix(rest, "["):
				p.Reason = strings.Trim(rest, "[]")
				if e := buildErr[m[1]]; e != "" {
					p.Reason += ": " + e
				}
			default:
				p.Elapsed = rest
			}
			out.Packages = append(out.Packages, p)
			cur = ""
		}
	}
	return out, sc.Err()
}
