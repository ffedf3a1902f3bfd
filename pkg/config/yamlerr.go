package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/superguard/superguard/internal/errtext"
)

// yamlError rewrites a decoding error of package yaml for an operator: the
// lines stay (they are the file's), Go type names go. "line 7: field
// targts not found in type main.section" becomes "line 7: unknown field
// \"targts\""; "line 3: cannot unmarshal !!str `abc` into int" becomes
// "line 3: \"abc\" is not a whole number". Other errors are returned as
// they are.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	lines := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		lines[i] = humanYAML(e)
	}
	return errors.New(strings.Join(lines, "\n"))
}

var (
	reUnknownField = lazyRegexp(`field (\S+) not found in type .*$`)
	reCannot       = lazyRegexp("cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)")
)

func humanYAML(s string) string {
	if m := reUnknownField().FindStringSubmatchIndex(s); m != nil {
		return s[:m[0]] + fmt.Sprintf("unknown field %q", s[m[2]:m[3]]) + s[m[1]:]
	}
	if m := reCannot().FindStringSubmatch(s); m != nil {
		what := map[string]string{"seq": "a list", "map": "a mapping", "null": "an empty value"}[m[1]]
		if what == "" {
			what = fmt.Sprintf("%q", m[2])
		}
		idx := reCannot().FindStringIndex(s)
		return s[:idx[0]] + what + " is not " + goTypeWords(m[3])
	}
	return s
}

// goTypeWords names the kind of value a Go type holds, in words.
func goTypeWords(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "*"):
		return goTypeWords(t[1:])
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasSuffix(t, "Duration"):
		return "a duration (e.g. 30s, 5m)"
	}
	return "a mapping of fields"
}

// decodeListener decodes listeners.<name> of the YAML document data into
// into (a pointer), strictly, so that errors carry the file's line numbers:
// the whole document is decoded into a struct made for the purpose, whose
// only known field is that section, every other key being absorbed by an
// inline map.
func decodeListener(data []byte, name string, into any) error {
	rest := reflect.TypeOf(map[string]yaml.Node{})
	inner := reflect.StructOf([]reflect.StructField{
		{Name: "Section", Type: reflect.TypeOf(into), Tag: reflect.StructTag(fmt.Sprintf("yaml:%q", name))},
		{Name: "Rest", Type: rest, Tag: `yaml:",inline"`},
	})
	outer := reflect.StructOf([]reflect.StructField{
		{Name: "Listeners", Type: reflect.PointerTo(inner), Tag: `yaml:"listeners"`},
		{Name: "Rest", Type: rest, Tag: `yaml:",inline"`},
	})
	v := reflect.New(outer)
	in := reflect.New(inner)
	in.Elem().Field(0).Set(reflect.ValueOf(into))
	v.Elem().Field(0).Set(in)
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	return dec.Decode(v.Interface())
}

// rePath is a field path, at the start of an error line or after a
// prefix ending in ": ": "listeners.haltguard.targets[1]: ...".
var rePath = lazyRegexp(`(?:^|: )([a-z_][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z_][a-z0-9_]*(?:\[\d+\])?)*)(?: \([^)]*\))?: `)

// reHasLine is a line that already gives its line number.
var reHasLine = lazyRegexp(`\bline \d+:`)

// Locate puts the file's line number in front of the field path of every
// line of msg that names a field the file has ("config f.yaml:
// listeners.haltguard.targets[1]: ..." becomes "config f.yaml: line 12:
// listeners.haltguard.targets[1]: ..."). Lines of other shapes, lines
// that already give a line, and every line of a config not parsed from a
// file are left as they are.
func (c *Config) Locate(msg string) string {
	if c == nil || c.raw == nil {
		return msg
	}
	var root yaml.Node
	if yaml.Unmarshal(c.raw, &root) != nil {
		return msg
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if reHasLine().MatchString(l) {
			continue
		}
		for _, m := range rePath().FindAllStringSubmatchIndex(l, -1) {
			if n := lineOf(&root, l[m[2]:m[3]]); n > 0 {
				lines[i] = fmt.Sprintf("%sline %d: %s", l[:m[2]], n, l[m[2]:])
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}

// LocateError is Locate for an error; nil stays nil.
func (c *Config) LocateError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if located := c.Locate(msg); located != msg {
		return errtext.Replace(err, located)
	}
	return err
}

// lineOf is the line of the node at path ("a.b[2].c") in the document, the
// deepest one found when the path goes further than the file (a field
// left to its default is reported at its section); 0 when not even the
// first step is there.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	line := 0
	for _, step := range strings.Split(path, ".") {
		key, idx := step, -1
		if i := strings.IndexByte(step, '['); i >= 0 {
			key = step[:i]
			_, _ = fmt.Sscanf(step[i:], "[%d]", &idx)
		}
		next := mappingValue(n, key)
		if next == nil {
			return line
		}
		line, n = next.Line, next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// mappingValue is the value under key in a mapping node, its key node's
// line standing for it (a section's line is where its name is).
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := *n.Content[i+1]
			if v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode {
				// A block's own line is its first entry's: report the key's.
				v.Line = n.Content[i].Line
			}
			return &v
		}
	}
	return nil
}

// lazyRegexp compiles expr on first use: a binary that reads no YAML
// (eventlog) compiles none of these at start.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
