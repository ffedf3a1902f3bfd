package main

import (
	"os"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	f, err := os.Open("testdata/sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 3 || len(r.Skipped) != 1 || r.CPU != "AMD EPYC 7B13" {
		t.Fatalf("parsed %+v", r)
	}
	halt, ok := r.find("integration/haltguard", "BenchmarkHalt/haltguard=EXITED")
	if !ok || halt.Metrics["median-ms"] != 38 || halt.N != 20 {
		t.Errorf("haltguard result %+v", halt)
	}
	var b strings.Builder
	write(&b, r, machineInfo{CPU: "AMD EPYC 7B13", Cores: "2"}, "make bench")
	report := b.String()
	for _, want := range []string{
		"| CPU | AMD EPYC 7B13 |",
		// A goal met, beside both comparisons: one measured, one skipped with its reason.
		"| halt: risk manager's death to 20 targets stopped (median) | 38.0 median-ms | <= 60.0 median-ms | met | bare stopProcessGroup (the floor): 16.0 median-ms; " +
			"Python childutils listener halting on FATAL: not run (skipped: no /usr/bin/python3: the Python baseline needs Debian's python3 with the supervisor package) |",
		// A goal missed.
		"| memguard: RSS | 22.0 RSS-MB | < 15.0 RSS-MB | **missed** |  |",
		"| memguard: CPU of a round over 200 process trees | 12.3 round-cpu-ms | < 20.0 round-cpu-ms | met | memmon-like ps round, CPU ms: 6,900 memmon-like-cpu-ms/round; memmon-like / memguard CPU: 552 memmon-like/memguard-cpu |",
		// A failed benchmark's goal, with the failure's reason.
		"| crashpager: idle RSS | not run (failed: crashpager did not start: exit status 2) | < 15.0 RSS-MB | | |",
		// A goal whose package was not run at all.
		"| healthprobe: RSS | not run (not in this run's output) |",
		"| BenchmarkRound | 5 | 12,000,000 ns/op, 12.5 cpu-ms/round,",
		"| github.com/superguard/superguard/integration/crashpager | BenchmarkIdleRSS | **failed**: crashpager did not start: exit status 2 |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q\n%s", want, report)
		}
	}
}

func TestGoalsNameDistinctFigures(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range goals {
		k := g.Pkg + " " + g.Bench + " " + g.Metric
		if seen[k] {
			t.Errorf("two goals for %s", k)
		}
		seen[k] = true
		if !strings.HasPrefix(g.Bench, "Benchmark") || g.Metric == "" || !strings.Contains("< <= > >=", g.Op) {
			t.Errorf("goal %+v", g)
		}
	}
}
