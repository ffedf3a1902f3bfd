// Package enum gives a small integer enumeration (values 0, 1, ...) its
// text form: String, a case-insensitive Parse, and the TextUnmarshaler
// body, so that flags, YAML and JSON all read and write the names.
package enum

import (
	"fmt"
	"strings"
)

// Names are the names of the values 0, 1, ... of an enumeration of type T;
// Kind names the enumeration in messages ("severity").
type Names[T ~int] struct {
	Kind  string
	Names []string
}

// String returns v's name, or "kind(v)" for a value out of range.
func (n Names[T]) String(v T) string {
	if v < 0 || int(v) >= len(n.Names) {
		return fmt.Sprintf("%s(%d)", n.Kind, int(v))
	}
	return n.Names[v]
}

// Parse returns the value named s, ignoring case; an unknown name is an
// error listing the names (and the zero value).
func (n Names[T]) Parse(s string) (T, error) {
	for i, name := range n.Names {
		if strings.EqualFold(s, name) {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("%s %q: want %s", n.Kind, s, n.list())
}

// Unmarshal sets *v from the name in b: the body of an UnmarshalText.
func (n Names[T]) Unmarshal(v *T, b []byte) error {
	p, err := n.Parse(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// list is "a, b or c".
func (n Names[T]) list() string {
	if len(n.Names) < 2 {
		return strings.Join(n.Names, "")
	}
	return strings.Join(n.Names[:len(n.Names)-1], ", ") + " or " + n.Names[len(n.Names)-1]
}
