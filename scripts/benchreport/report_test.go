package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/fixture.md")

// fixtureMachine is a machine that does not change between test runs.
var fixtureMachine = machineInfo{
	CPU: "AMD EPYC 7B13", Cores: 2, Memory: "23.5 GiB", Kernel: "6.1.0", Go: "go1.26.8",
	Supervisord: "4.2.5 (/usr/bin/supervisord)", Date: "2026-12-03 17:50 UTC", Commit: "67160d2",
	LoadBefore: []float64{0.5, 0.4, 0.3}, LoadAfter: []float64{1.2, 0.9, 0.5},
}

func fixtureReport(t *testing.T, m machineInfo) (string, summary) {
	t.Helper()
	src, err := readSpecs(os.DirFS("testdata/fixture"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	sum := write(&b, parseFile(t, "testdata/fixture.txt"), src, m, "make bench")
	return b.String(), sum
}

// TestReportFixture renders the fixture run and compares it with
// testdata/fixture.md (go test -run TestReportFixture -update rewrites
// it), then checks the lines that matter one by one.
func TestReportFixture(t *testing.T) {
	report, sum := fixtureReport(t, fixtureMachine)
	golden := filepath.Join("testdata", "fixture.md")
	if *update {
		if err := os.WriteFile(golden, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if report != string(want) {
		t.Errorf("report differs from %s (-update rewrites it):\n%s", golden, report)
	}
	if want := (summary{Results: 3, Met: 1, NotMet: 1, NoFigure: 4, Skipped: 2, Failed: 3}); sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	for _, line := range []string{
		"| CPU | AMD EPYC 7B13 |",
		"| load average (1, 5, 15 min) | at the start 0.50 0.40 0.30; at the end 1.20 0.90 0.50 |",
		// A goal met, beside both comparisons: one measured, one skipped
		// with its reason.
		"| `BenchmarkHalt/haltguard=EXITED` | `median-ms` | 14 | <= 60 | met | the floor: 4; " +
			"a Python listener: not run (skipped: no /usr/bin/python3: the Python baseline needs Debian's python3) |",
		// A goal not met.
		"| `BenchmarkHalt/haltguard=EXITED` | `p99-ms` | 125 | <= 100 | **not met** |",
		// A sub-benchmark held to the goal that failed: its reason, and
		// only the comparisons that ran.
		"| `BenchmarkHalt/haltguard=EXITED,stop_mode=concurrent` | `median-ms` | failed: supervisord did not start: exit status 2 | <= 60 | not run | the floor: 4 |",
		// A benchmark that skipped itself, and one that panicked.
		"| `BenchmarkRound` | `round-ms` | skipped: needs /usr/bin/python3 for the httpok-like listener | < 1,000 | not run |  |",
		"| `BenchmarkIdleRSS` | `RSS-MB` | failed: panic: assignment to entry in nil map | < 15 | not run |  |",
		// Every benchmark that did not run, with why; the failed parent
		// of a failed sub-benchmark is not listed on its own.
		"| halt | `BenchmarkHalt/python=FATAL` | skipped: no /usr/bin/python3: the Python baseline needs Debian's python3 |",
		"| halt | `BenchmarkHalt/haltguard=EXITED,stop_mode=concurrent` | **failed**: supervisord did not start: exit status 2 |",
		"| broken | `BenchmarkNotify` | not in the output: its package failed (build failed: broken/broken_test.go:7:2: undefined: undefined) |",
		// Every result, the comparisons named, the logs once each.
		"### halt (**FAIL** 1.010s)",
		"| `BenchmarkHalt/floor` (comparison: the floor) | 1000000000 | 0.00000150 ns/op, 4 median-ms, 8 p99-ms, 0 B/op, 0 allocs/op |",
		"```\nBenchmarkHalt/haltguard=EXITED: samples (ms): 17 14 13\nBenchmarkHalt/haltguard=EXITED: a log on two lines\n    the second\n```",
	} {
		if !strings.Contains(report, line) {
			t.Errorf("report lacks %q", line)
		}
	}
	if strings.Contains(report, "| halt | `BenchmarkHalt` |") {
		t.Error("the parent of a failed sub-benchmark is listed as failed on its own")
	}
	if strings.Contains(report, "was loaded") {
		t.Error("a load of 1.2 on 2 cores called loaded")
	}
	loadedMachine := fixtureMachine
	loadedMachine.LoadAfter = []float64{3.5, 2, 1}
	if report, _ := fixtureReport(t, loadedMachine); !strings.Contains(report, "**The machine was loaded while the benchmarks ran**") {
		t.Error("a load of 3.5 on 2 cores not said")
	}
}

// TestReportRealRun renders a real run of this module's benchmarks with
// this module's goals: every goal of a benchmark that ran has its figure.
func TestReportRealRun(t *testing.T) {
	src, err := readSpecs(os.DirFS("../.."))
	if err != nil {
		t.Fatal(err)
	}
	o := parseFile(t, "testdata/bench.txt")
	var b bytes.Buffer
	sum := write(&b, o, src, fixtureMachine, "make bench")
	if strings.Contains(b.String(), "**not reported**") {
		t.Errorf("a goal names a metric its benchmark did not report:\n%s", b.String())
	}
	if sum.Met+sum.NotMet == 0 || sum.Results != len(o.Results) {
		t.Errorf("summary %+v", sum)
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {14, "14"}, {20, "20"}, {3.2034, "3.20"}, {15.71, "15.7"}, {0.07547, "0.0755"},
		{99.4, "99.4"}, {391.9, "392"}, {1000, "1,000"}, {41876720239, "41,876,720,239"}, {-1234.4, "-1,234"},
		{0.0000015, "0.00000150"},
	} {
		if got := num(tc.v); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestCell(t *testing.T) {
	if got := cell("a | b\nc"); got != `a \| b c` {
		t.Errorf("cell = %q", got)
	}
}

// TestRun runs the command on the fixture: it writes the report and says
// what it counted; a directive it cannot read fails it.
func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	var stderr bytes.Buffer
	if code := run([]string{"-in", "testdata/fixture.txt", "-out", out, "-src", "testdata/fixture", "-load-before", "0.10 0.20 0.30 1/100 42"}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "at the start 0.10 0.20 0.30") || !strings.Contains(stderr.String(), "goals: 1 met, 1 not met") {
		t.Errorf("stderr %q, report:\n%s", stderr.String(), b)
	}

	bad := t.TempDir()
	for name, text := range map[string]string{
		"go.mod":       "module example.com/bad\n",
		"x/x_test.go":  "package x\n\nimport \"testing\"\n\n// BenchmarkX is bad.\n//\n// goal: RSS-MB below 15\nfunc BenchmarkX(b *testing.B) {}\n",
		"in/bench.txt": "",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(bad, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bad, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stderr.Reset()
	if code := run([]string{"-in", filepath.Join(bad, "in/bench.txt"), "-out", filepath.Join(bad, "out.md"), "-src", bad}, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "x/x_test.go:8:1 (doc line 3): want goal: METRIC OP NUMBER") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
