package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// spec is what a benchmark's doc comment says about its figures: the goals
// and the comparisons measured in the same run.
type spec struct {
	Pkg   string // import path
	Name  string // the Benchmark function
	Pos   string // file:line of the function, for messages
	Goals []goal
	// Versus are the results of other benchmarks (or sub-benchmarks) this
	// one is compared with, each on the metric of every goal: a versus
	// line that names a result and no metric. Those results are
	// comparisons, never held to the goals.
	Versus []versus
}

// source is what the benchmarks' sources say: the module, and each
// Benchmark function's goals and comparisons, in file order.
type source struct {
	Module string
	Specs  []spec
}

// goal is one headline figure: a metric held to a target (Op empty: a
// figure without a goal), with the comparisons that belong to it.
type goal struct {
	Metric string
	Op     string // <, <=, > or >=; empty for a figure line
	Target float64
	Versus []versus // versus lines that name a metric, after this line
}

// versus is one comparison: a metric of a result of the same run.
type versus struct {
	Label  string
	Bench  string // full benchmark name; empty: the goal's own result
	Metric string // empty: the goal's metric
}

// met reports whether v meets g.
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

var directive = regexp.MustCompile(`^(goal|figure|versus):\s*(.*)$`)

// parseDirectives reads the goal, figure and versus lines of one doc
// comment (its text, comment markers removed). pos names the comment in
// errors.
//
//	goal: METRIC OP NUMBER     a figure held to a target (OP: < <= > >=)
//	figure: METRIC             a headline figure without a goal
//	versus: LABEL: REF         a comparison measured in the same run
//
// REF is a full benchmark name (BenchmarkX/sub), the same metric of that
// result for every goal of the benchmark; or a metric of the goal's own
// result, or a benchmark name and a metric, which belong to the goal or
// figure line above.
func parseDirectives(doc, pos string) (goals []goal, vs []versus, err error) {
	for i, line := range strings.Split(doc, "\n") {
		m := directive.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		at := fmt.Sprintf("%s (doc line %d)", pos, i+1)
		f := strings.Fields(m[2])
		switch m[1] {
		case "goal":
			if len(f) != 3 || !slices.Contains([]string{"<", "<=", ">", ">="}, f[1]) {
				return nil, nil, fmt.Errorf("%s: want goal: METRIC OP NUMBER (OP one of < <= > >=), got %q", at, line)
			}
			t, err := strconv.ParseFloat(strings.ReplaceAll(f[2], "_", ""), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: goal target %q: %w", at, f[2], err)
			}
			goals = append(goals, goal{Metric: f[0], Op: f[1], Target: t})
		case "figure":
			if len(f) != 1 {
				return nil, nil, fmt.Errorf("%s: want figure: METRIC, got %q", at, line)
			}
			goals = append(goals, goal{Metric: f[0]})
		case "versus":
			label, ref := m[2], m[2]
			if i := strings.LastIndex(m[2], ": "); i >= 0 {
				label, ref = strings.TrimSpace(m[2][:i]), m[2][i+2:]
			}
			r := strings.Fields(ref)
			var v versus
			switch {
			case len(r) == 1 && strings.HasPrefix(r[0], "Benchmark"):
				v = versus{Label: label, Bench: r[0]}
			case len(r) == 1:
				v = versus{Label: label, Metric: r[0]}
			case len(r) == 2 && strings.HasPrefix(r[0], "Benchmark"):
				v = versus{Label: label, Bench: r[0], Metric: r[1]}
			default:
				return nil, nil, fmt.Errorf("%s: want versus: LABEL: BenchmarkX/sub [METRIC] or versus: LABEL: METRIC, got %q", at, line)
			}
			if v.Metric == "" {
				vs = append(vs, v)
				continue
			}
			if len(goals) == 0 {
				return nil, nil, fmt.Errorf("%s: versus with a metric belongs to a goal or figure line above it: %q", at, line)
			}
			goals[len(goals)-1].Versus = append(goals[len(goals)-1].Versus, v)
		}
	}
	return goals, vs, nil
}

// readSpecs finds every Benchmark function in the _test.go files under
// root of fsys (a Go module: its go.mod names the import paths) and
// parses its doc comment. Directories named testdata or bin, and hidden
// ones, are skipped, as the go tool and make bench skip them.
func readSpecs(fsys fs.FS) (source, error) {
	mod, err := fs.ReadFile(fsys, "go.mod")
	if err != nil {
		return source{}, err
	}
	var module string
	for line := range strings.Lines(string(mod)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			module = f[1]
		}
	}
	if module == "" {
		return source{}, fmt.Errorf("go.mod: no module line")
	}
	var specs []spec
	fset := token.NewFileSet()
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (d.Name() == "testdata" || d.Name() == "bin" || d.Name() == "vendor" ||
				strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		pkg := module
		if dir := path.Dir(p); dir != "." {
			pkg += "/" + dir
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Benchmark") {
				continue
			}
			s := spec{Pkg: pkg, Name: fn.Name.Name, Pos: fset.Position(fn.Pos()).String()}
			if fn.Doc != nil {
				if s.Goals, s.Versus, err = parseDirectives(fn.Doc.Text(), s.Pos); err != nil {
					return err
				}
			}
			specs = append(specs, s)
		}
		return nil
	})
	return source{Module: module, Specs: specs}, err
}

// comparison returns the label under which the spec names result name as
// a comparison, if it does.
func (s spec) comparison(name string) (string, bool) {
	for _, v := range s.Versus {
		if v.Bench == name {
			return v.Label, true
		}
	}
	for _, g := range s.Goals {
		for _, v := range g.Versus {
			if v.Bench == name {
				return v.Label, true
			}
		}
	}
	return "", false
}

// owns reports whether a result named name belongs to the spec's
// benchmark (is it, or one of its sub-benchmarks).
func (s spec) owns(name string) bool {
	return name == s.Name || strings.HasPrefix(name, s.Name+"/")
}
