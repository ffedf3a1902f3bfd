package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Redacted is what a secret prints as.
const Redacted = "[REDACTED]"

// Secret is a credential resolved at load from an environment variable or a
// file. It prints, marshals and logs as [REDACTED]; only Value returns it.
type Secret struct{ v string }

// Value returns the secret itself. Pass it to the client that needs it and
// nowhere else.
func (s Secret) Value() string { return s.v }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s.v != "" }

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer (%#v) without revealing the value.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// MarshalText implements encoding.TextMarshaler (JSON, YAML, zerolog)
// without revealing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// secretRef is a pair of *_env / *_file fields naming where a secret lives.
type secretRef struct {
	field     string // the field's base name, e.g. "routing_key"
	env       string // value of <field>_env
	file      string // value of <field>_file
	required  bool
	shapeOnly bool // check which fields are set, read nothing
}

// resolve reads the secret. path is the YAML path of the owning section, for
// errors ("sinks[1]").
func (r secretRef) resolve(path string) (Secret, error) {
	envField, fileField := path+"."+r.field+"_env", path+"."+r.field+"_file"
	switch {
	case r.env != "" && r.file != "":
		return Secret{}, fieldErr(envField, "set only one of %s_env and %s_file", r.field, r.field)
	case r.shapeOnly && (r.env != "" || r.file != ""):
		return Secret{}, nil
	case r.env != "":
		v, ok := os.LookupEnv(r.env)
		if !ok {
			return Secret{}, fieldErr(envField, "variable %s is not set", r.env)
		}
		if v = strings.TrimSpace(v); v == "" {
			return Secret{}, fieldErr(envField, "variable %s is empty", r.env)
		}
		return Secret{v}, nil
	case r.file != "":
		fi, err := os.Stat(r.file)
		if err != nil {
			return Secret{}, fieldErr(fileField, "%v", err)
		}
		if fi.Mode().Perm()&0o004 != 0 {
			return Secret{}, fieldErr(fileField, "%s is readable by everyone (mode %#o): chmod o-r it", r.file, fi.Mode().Perm())
		}
		b, err := os.ReadFile(r.file)
		if err != nil {
			return Secret{}, fieldErr(fileField, "%v", err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return Secret{}, fieldErr(fileField, "%s is empty", r.file)
		}
		return Secret{v}, nil
	case r.required:
		return Secret{}, fieldErr(path, "%s_env or %s_file is required", r.field, r.field)
	}
	return Secret{}, nil
}

// secretValues returns the strings to redact for a secret: the value and,
// for a URL, its path and query too (errors often quote only those).
func secretValues(s Secret) []string {
	if !s.IsSet() {
		return nil
	}
	out := []string{s.v}
	if u, err := url.Parse(s.v); err == nil && u.Host != "" {
		if len(u.Path) > 1 {
			out = append(out, u.Path, strings.TrimPrefix(u.Path, "/"))
		}
		if u.RawQuery != "" {
			out = append(out, u.RawQuery)
		}
	}
	return out
}
