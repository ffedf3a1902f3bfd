package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"gopkg.in/yaml.v3"
)

// Size is a number of bytes written in YAML with a unit: KB, MB, GB (powers
// of 1000) or KiB, MiB, GiB (powers of 1024), e.g. "2GiB", "512 MB",
// "1.5GiB"; a bare integer is bytes. Parsed by github.com/dustin/go-humanize.
type Size int64

// ParseSize parses s as a Size.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("size %q: want a number with a unit, such as 512MiB or 2GB", s)
	}
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("size %q: must not be negative", s)
	}
	n, err := humanize.ParseBytes(t)
	if err != nil || n > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q: want a number with a unit: KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)", s)
	}
	return Size(n), nil
}

// String shows s in binary units ("1.5 GiB").
func (s Size) String() string {
	if s < 0 {
		return "-" + humanize.IBytes(uint64(-s))
	}
	return humanize.IBytes(uint64(s))
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	return scalar(n, s, "a size such as 2GiB", ParseSize)
}

// MarshalYAML implements yaml.Marshaler.
func (s Size) MarshalYAML() (any, error) { return strconv.FormatInt(int64(s), 10), nil }

// Share is a fraction written in YAML as a percentage ("90%") or a number
// (0.9).
type Share float64

// ParseShare parses "90%" or "0.9".
func ParseShare(s string) (Share, error) {
	t := strings.TrimSpace(s)
	div := 1.0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, div = strings.TrimSpace(p), 100
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("share %q: want a percentage such as 90%% or a fraction such as 0.9", s)
	}
	return Share(v / div), nil
}

// String shows s as a percentage.
func (s Share) String() string { return strconv.FormatFloat(float64(s)*100, 'f', -1, 64) + "%" }

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Share) UnmarshalYAML(n *yaml.Node) error {
	return scalar(n, s, "a percentage such as 90%", ParseShare)
}

// scalar decodes the scalar node n into *into with parse; what names the
// value wanted in the error.
func scalar[T any](n *yaml.Node, into *T, what string, parse func(string) (T, error)) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want %s", n.Line, what)
	}
	v, err := parse(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*into = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (s Share) MarshalYAML() (any, error) { return s.String(), nil }
