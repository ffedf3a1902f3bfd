package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) output {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestParseFixture reads real go test -v -bench output (testdata/fixture
// run with go 1.26): results with logs, a skipped and a failed
// sub-benchmark, a skipped benchmark, a panic and a build failure.
func TestParseFixture(t *testing.T) {
	o := parseFile(t, "testdata/fixture.txt")
	if o.CPU != "AMD EPYC" {
		t.Errorf("cpu %q", o.CPU)
	}
	var names []string
	for _, r := range o.Results {
		names = append(names, r.Name)
	}
	if want := []string{"BenchmarkHalt/floor", "BenchmarkHalt/haltguard=EXITED", "BenchmarkFit"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("results %q, want %q", names, want)
	}
	hg := o.Results[1]
	if hg.Pkg != "example.com/fx/halt" || hg.N != 1000000000 || hg.Metrics["median-ms"] != 14 || hg.Metrics["p99-ms"] != 125 ||
		!reflect.DeepEqual(hg.Order, []string{"ns/op", "median-ms", "p99-ms", "B/op", "allocs/op"}) {
		t.Errorf("haltguard result %+v", hg)
	}
	if len(hg.Logs) != 12 || hg.Logs[0] != "samples (ms): 17 14 13" || hg.Logs[1] != "a log on two lines\nthe second" {
		t.Errorf("haltguard logs %q", hg.Logs)
	}
	wantSkipped := []outcome{
		{Pkg: "example.com/fx/halt", Name: "BenchmarkHalt/python=FATAL", Reason: "no /usr/bin/python3: the Python baseline needs Debian's python3"},
		{Pkg: "example.com/fx/probe", Name: "BenchmarkRound", Reason: "needs /usr/bin/python3 for the httpok-like listener"},
	}
	if !reflect.DeepEqual(o.Skipped, wantSkipped) {
		t.Errorf("skipped %+v\nwant %+v", o.Skipped, wantSkipped)
	}
	wantFailed := []outcome{
		{Pkg: "example.com/fx/halt", Name: "BenchmarkHalt/haltguard=EXITED,stop_mode=concurrent", Reason: "supervisord did not start: exit status 2"},
		{Pkg: "example.com/fx/halt", Name: "BenchmarkHalt"},
		{Pkg: "example.com/fx/crash", Name: "BenchmarkIdleRSS", Reason: "panic: assignment to entry in nil map"},
	}
	if !reflect.DeepEqual(o.Failed, wantFailed) {
		t.Errorf("failed %+v\nwant %+v", o.Failed, wantFailed)
	}
	wantPkgs := []pkgRun{
		{Path: "example.com/fx/halt", Elapsed: "1.010s"},
		{Path: "example.com/fx/probe", OK: true, Elapsed: "0.016s"},
		{Path: "example.com/fx/crash", Elapsed: "0.012s", Reason: "panic: assignment to entry in nil map"},
		{Path: "example.com/fx/broken", Reason: "build failed: broken/broken_test.go:7:2: undefined: undefined"},
	}
	if !reflect.DeepEqual(o.Packages, wantPkgs) {
		t.Errorf("packages %+v\nwant %+v", o.Packages, wantPkgs)
	}
}

// TestParsePlain reads the output of go test -bench without -v: logs come
// under --- BENCH: after their result (and a skip leaves no line).
func TestParsePlain(t *testing.T) {
	const out = `goos: linux
pkg: github.com/superguard/superguard/integration/haltguard
cpu: AMD EPYC
BenchmarkHalt/floor=stopProcessGroup-2         	       1	1441796478 ns/op	         4.000 median-ms	         8.000 p99-ms	        20.00 runs	15129792 B/op	  359023 allocs/op
--- BENCH: BenchmarkHalt/floor=stopProcessGroup-2
    bench_test.go:134: exited: to the last stopped: (ms): 4 3 4
BenchmarkHalt/haltguard=EXITED,priority=-1-2                            	       1	42853290580 ns/op	        18.00 median-ms	        90.00 p99-ms
PASS
ok  	github.com/superguard/superguard/integration/haltguard	281.244s
`
	o, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Results) != 2 || len(o.Packages) != 1 || !o.Packages[0].OK {
		t.Fatalf("parsed %+v", o)
	}
	floor := o.Results[0]
	if floor.Name != "BenchmarkHalt/floor=stopProcessGroup" || floor.Metrics["runs"] != 20 ||
		!reflect.DeepEqual(floor.Logs, []string{"exited: to the last stopped: (ms): 4 3 4"}) {
		t.Errorf("floor %+v", floor)
	}
	if low := o.Results[1]; low.Name != "BenchmarkHalt/haltguard=EXITED,priority=-1" || low.Metrics["median-ms"] != 18 || low.Logs != nil {
		t.Errorf("priority=-1 %+v", low)
	}
}

// TestParseNames checks that -v's name line decides a name ending in -N:
// the regexp alone takes the last -N for the GOMAXPROCS suffix.
func TestParseNames(t *testing.T) {
	const out = "pkg: p\n" +
		"BenchmarkX/workers-4\n" +
		"BenchmarkX/workers-4-2   \t  10\t  5.0 ns/op\n" +
		"BenchmarkY/workers-8\n" +
		"BenchmarkY/workers-8   \t  10\t  5.0 ns/op\n" + // GOMAXPROCS=1: no suffix
		"BenchmarkZ-2   \t  10\t  5.0 ns/op\n" // no name line (plain output)
	o, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range o.Results {
		names = append(names, r.Name)
	}
	if want := []string{"BenchmarkX/workers-4", "BenchmarkY/workers-8", "BenchmarkZ"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
}

// TestParseRealRun reads the output of a real make bench run on this
// module (testdata/bench.txt).
func TestParseRealRun(t *testing.T) {
	o := parseFile(t, "testdata/bench.txt")
	if len(o.Results) < 10 || len(o.Packages) < 4 {
		t.Fatalf("%d results in %d packages", len(o.Results), len(o.Packages))
	}
	for _, p := range o.Packages {
		if !p.OK || p.Elapsed == "" {
			t.Errorf("package %+v", p)
		}
	}
	for _, r := range o.Results {
		if r.N == 0 || r.Metrics["ns/op"] == 0 || !strings.HasPrefix(r.Pkg, "github.com/superguard/superguard/") {
			t.Errorf("result %+v", r)
		}
	}
	r, ok := o.result("github.com/superguard/superguard/integration/crashpager", "BenchmarkEventToAck/supervisord")
	if !ok || r.Metrics["ack-p99-ms"] == 0 || r.Metrics["events/s"] == 0 {
		t.Errorf("crashpager's event to ack %+v", r)
	}
}
