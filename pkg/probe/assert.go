package probe

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Assertion is a condition on the fields of a JSON body, written in the
// expr language (github.com/expr-lang/expr): `status == "healthy"`,
// `feed_connected == true`, `md_lag_ms < 500`, `feeds.equities.lag_ms <
// 500 && len(errors) == 0`. Top-level fields of the body are its
// variables. It is compiled once and evaluated against every body.
type Assertion struct {
	Source string
	prog   *vm.Program
	idents []string // the body's fields it reads, for the evidence
}

// Compile compiles src; the error gives the position of the problem.
func Compile(src string) (*Assertion, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("empty assertion")
	}
	prog, err := expr.Compile(src, expr.AsBool(), expr.Env(map[string]any{}), expr.AllowUndefinedVariables(), expr.DisableBuiltin("now"))
	if err != nil {
		return nil, fmt.Errorf("assertion %q: %w", src, err)
	}
	a := &Assertion{Source: src, prog: prog}
	tree := prog.Node()
	ast.Walk(&tree, identVisitor{&a.idents})
	return a, nil
}

type identVisitor struct{ out *[]string }

func (v identVisitor) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && !slices.Contains(*v.out, id.Value) {
		*v.out = append(*v.out, id.Value)
	}
}

// Check evaluates a against body (a decoded JSON object). ok false with an
// empty evidence never happens: a failed or erroring assertion says which
// and the values of the fields it reads.
func (a *Assertion) Check(body map[string]any) (ok bool, evidence string) {
	out, err := expr.Run(a.prog, body)
	if err == nil {
		if b, isBool := out.(bool); isBool && b {
			return true, ""
		}
	}
	var seen []string
	for _, id := range a.idents {
		v, present := body[id]
		if !present {
			seen = append(seen, id+" missing")
			continue
		}
		seen = append(seen, id+"="+valueText(v))
	}
	what := "is false"
	if err != nil {
		what = "cannot be evaluated: " + firstLine(err.Error())
	}
	if len(seen) == 0 {
		return false, fmt.Sprintf("%s %s", a.Source, what)
	}
	return false, fmt.Sprintf("%s %s (%s)", a.Source, what, strings.Join(seen, ", "))
}

// valueText is a JSON value for evidence, at most 80 bytes.
func valueText(v any) string {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%d", int64(f))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(b), 80)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TimeFormat says how a data timestamp is written.
type TimeFormat string

// Time formats.
const (
	RFC3339   TimeFormat = "rfc3339" // "2026-12-03T09:30:00.123Z"
	UnixSec   TimeFormat = "unix"    // seconds since the epoch, a number (fractions allowed)
	UnixMilli TimeFormat = "unix_ms" // milliseconds since the epoch
)

// Stale checks the age of a timestamp field of a JSON body: the last tick
// a feed handler saw.
type Stale struct {
	// Field is an expr expression for the timestamp: `last_tick`,
	// `feed.last_tick_ms`.
	Field  string
	Format TimeFormat
	MaxAge time.Duration
	prog   *vm.Program
}

// CompileStale checks s and compiles its field expression.
func CompileStale(s Stale) (*Stale, error) {
	switch s.Format {
	case RFC3339, UnixSec, UnixMilli:
	default:
		return nil, fmt.Errorf("format %q: want rfc3339, unix or unix_ms", s.Format)
	}
	if s.MaxAge <= 0 {
		return nil, errors.New("max_age: want a positive duration")
	}
	prog, err := expr.Compile(s.Field, expr.Env(map[string]any{}), expr.AllowUndefinedVariables())
	if err != nil {
		return nil, fmt.Errorf("field %q: %w", s.Field, err)
	}
	s.prog = prog
	return &s, nil
}

// Check reads the timestamp from body and compares its age at now with
// MaxAge. A timestamp ahead of now counts as age 0, and the skew is
// reported.
func (s *Stale) Check(body map[string]any, now time.Time) (ok bool, age, skew time.Duration, evidence string) {
	v, err := expr.Run(s.prog, body)
	if err != nil || v == nil {
		return false, 0, 0, fmt.Sprintf("%s: no timestamp in the body", s.Field)
	}
	ts, err := s.parse(v)
	if err != nil {
		return false, 0, 0, fmt.Sprintf("%s=%s: %v", s.Field, valueText(v), err)
	}
	age = now.Sub(ts)
	if age < 0 {
		skew, age = -age, 0
	}
	skewText := ""
	if skew > 0 {
		skewText = fmt.Sprintf("; it is %s ahead of this host's clock", skew.Round(time.Millisecond))
	}
	if age > s.MaxAge {
		return false, age, skew, fmt.Sprintf("%s %s is %s old (max %s): the data is stale%s",
			s.Field, ts.UTC().Format(time.RFC3339Nano), age.Round(time.Millisecond), s.MaxAge, skewText)
	}
	return true, age, skew, fmt.Sprintf("%s is %s old%s", s.Field, age.Round(time.Millisecond), skewText)
}

func (s *Stale) parse(v any) (time.Time, error) {
	switch s.Format {
	case RFC3339:
		str, ok := v.(string)
		if !ok {
			return time.Time{}, errors.New("want an RFC 3339 string")
		}
		return time.Parse(time.RFC3339Nano, str)
	default:
		f, ok := v.(float64)
		if !ok {
			return time.Time{}, errors.New("want a number")
		}
		if s.Format == UnixMilli {
			return time.UnixMilli(int64(f)), nil
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
}
