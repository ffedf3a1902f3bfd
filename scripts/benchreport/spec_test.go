package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseDirectives(t *testing.T) {
	for _, tc := range []struct {
		name   string
		doc    string
		goals  []goal
		versus []versus
		err    string
	}{
		{
			name: "goals and comparisons",
			doc: "BenchmarkX measures (goal: under 15 MB,\n" +
				"goal under 1 s) things.\n\n" +
				"goal: median-ms <= 60\n" +
				"versus: the floor: BenchmarkX/floor\n" +
				"versus: a listener, per 1,000 URLs: httpok-like-s/1000-URLs\n" +
				"goal: events/s >= 1_000\n" +
				"versus: C: BenchmarkY/c c-events/s\n" +
				"figure: cpu-µs/event\n",
			goals: []goal{
				{Metric: "median-ms", Op: "<=", Target: 60, Versus: []versus{{Label: "a listener, per 1,000 URLs", Metric: "httpok-like-s/1000-URLs"}}},
				{Metric: "events/s", Op: ">=", Target: 1000, Versus: []versus{{Label: "C", Bench: "BenchmarkY/c", Metric: "c-events/s"}}},
				{Metric: "cpu-µs/event"},
			},
			versus: []versus{{Label: "the floor", Bench: "BenchmarkX/floor"}},
		},
		{name: "no directive", doc: "BenchmarkX has none.\n"},
		{name: "a label with a colon", doc: "versus: Python: childutils: BenchmarkX/python=FATAL\n",
			versus: []versus{{Label: "Python: childutils", Bench: "BenchmarkX/python=FATAL"}}},
		{name: "no label", doc: "versus: BenchmarkX/c\n", versus: []versus{{Label: "BenchmarkX/c", Bench: "BenchmarkX/c"}}},
		{name: "a unit after the target", doc: "goal: RSS-MB < 15 MB\n", err: "want goal: METRIC OP NUMBER"},
		{name: "an unknown operator", doc: "goal: RSS-MB == 15\n", err: "want goal: METRIC OP NUMBER"},
		{name: "a bad number", doc: "goal: RSS-MB < 15MB\n", err: `goal target "15MB"`},
		{name: "a figure with a target", doc: "figure: RSS-MB < 15\n", err: "want figure: METRIC"},
		{name: "a metric comparison before any goal", doc: "versus: C: c-events/s\ngoal: x < 1\n", err: "belongs to a goal or figure line above it"},
		{name: "too many fields", doc: "versus: C: BenchmarkX/c c-events/s more\n", err: "want versus:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goals, vs, err := parseDirectives(tc.doc, "x_test.go:1")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "x_test.go:1") {
					t.Fatalf("err = %v, want one with %q and the position", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(goals, tc.goals) || !reflect.DeepEqual(vs, tc.versus) {
				t.Errorf("got goals %+v versus %+v\nwant goals %+v versus %+v", goals, vs, tc.goals, tc.versus)
			}
		})
	}
}

func TestReadSpecsFixture(t *testing.T) {
	src, err := readSpecs(os.DirFS("testdata/fixture"))
	if err != nil {
		t.Fatal(err)
	}
	if src.Module != "example.com/fx" {
		t.Errorf("module %q", src.Module)
	}
	var names []string
	for _, s := range src.Specs {
		names = append(names, s.Pkg+"."+s.Name)
	}
	want := []string{"example.com/fx/broken.BenchmarkNotify", "example.com/fx/crash.BenchmarkIdleRSS",
		"example.com/fx/halt.BenchmarkHalt", "example.com/fx/halt.BenchmarkFit", "example.com/fx/probe.BenchmarkRound"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("benchmarks %q, want %q", names, want)
	}
	halt := src.Specs[2]
	if len(halt.Goals) != 2 || len(halt.Versus) != 2 || !strings.HasPrefix(halt.Pos, "halt/halt_test.go:") {
		t.Errorf("BenchmarkHalt spec %+v", halt)
	}
	if l, ok := halt.comparison("BenchmarkHalt/python=FATAL"); !ok || l != "a Python listener" {
		t.Errorf("python=FATAL comparison %q %v", l, ok)
	}
	if _, ok := halt.comparison("BenchmarkHalt/haltguard=EXITED"); ok {
		t.Error("haltguard=EXITED taken for a comparison")
	}
}

// builtinUnits are the metrics go test reports itself.
var builtinUnits = map[string]bool{"ns/op": true, "B/op": true, "allocs/op": true, "MB/s": true}

// TestRepoDirectives reads this module's benchmarks as make bench does and
// checks what their doc comments name against their sources: a metric a
// goal names must be one its package reports (a string literal that is
// the metric or ends it, as "p99-ms" ends "ack-p99-ms" reported with a
// prefix), and a comparison must name a benchmark of its package. So a
// renamed metric or benchmark fails here, not months later in the report.
func TestRepoDirectives(t *testing.T) {
	root := os.DirFS("../..")
	src, err := readSpecs(root)
	if err != nil {
		t.Fatal(err)
	}
	literals := map[string][]string{} // package dir: the string literals of its _test.go files
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, b, parser.SkipObjectResolution)
		if err != nil {
			return nil // not one of the benchmarks' files (e.g. testdata that does not parse)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && s != "" {
					literals[path.Dir(p)] = append(literals[path.Dir(p)], s)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	benches := map[string]bool{}
	goals := 0
	for _, s := range src.Specs {
		benches[s.Pkg+"."+s.Name] = true
	}
	for _, s := range src.Specs {
		dir := strings.TrimPrefix(strings.TrimPrefix(s.Pkg, src.Module), "/")
		reported := func(metric string) bool {
			if builtinUnits[metric] {
				return true
			}
			for _, l := range literals[dir] {
				if strings.HasSuffix(metric, l) && (l == metric || strings.HasPrefix(l, "-") || strings.HasSuffix(metric[:len(metric)-len(l)], "-")) {
					return true
				}
			}
			return false
		}
		checkRef := func(v versus) {
			if v.Bench != "" && !benches[s.Pkg+"."+strings.Split(v.Bench, "/")[0]] {
				t.Errorf("%s: versus %q names %s, no benchmark of %s", s.Pos, v.Label, v.Bench, s.Pkg)
			}
			if v.Metric != "" && !reported(v.Metric) {
				t.Errorf("%s: versus %q names metric %q, which no benchmark of %s reports", s.Pos, v.Label, v.Metric, s.Pkg)
			}
		}
		for _, g := range s.Goals {
			goals++
			if !reported(g.Metric) {
				t.Errorf("%s: %s names metric %q, which no benchmark of %s reports", s.Pos, s.Name, g.Metric, s.Pkg)
			}
			for _, v := range g.Versus {
				checkRef(v)
			}
		}
		for _, v := range s.Versus {
			checkRef(v)
		}
	}
	if goals == 0 {
		t.Error("no goal in the module's benchmarks: where did the doc comment lines go?")
	}
}
