package config

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
)

// Redacted is what a secret prints as.
const Redacted = "[REDACTED]"

// Secret is a credential resolved from an environment variable or a file. It prints, marshals and logs as [REDACTED]; only Value returns it.
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

// SecretRef is a pair of *_env / *_file fields naming where a secret lives.
// Sinks declare one per secret they need and resolve it when they are
// built, so reading the file never needs a secret.
type SecretRef struct {
	Field    string // the field's base name, e.g. "routing_key"
	Env      string // value of <field>_env
	File     string // value of <field>_file
	Required bool
}

// IsSet reports whether the file names a source for the secret.
func (r SecretRef) IsSet() bool { return r.Env != "" || r.File != "" }

// Validate checks which fields are set without reading anything. Errors
// are FieldErrors relative to the owning section ("routing_key_env: ...",
// or no field when one of the pair is required).
func (r SecretRef) Validate() error {
	switch {
	case r.Env != "" && r.File != "":
		return FieldErrorf(r.Field+"_env", "set only one of %s_env and %s_file", r.Field, r.Field)
	case r.Required && !r.IsSet():
		return FieldErrorf("", "%s_env or %s_file is required", r.Field, r.Field)
	}
	return nil
}

// Resolve validates r and reads the secret (empty when r names none).
// Errors name the field, never the value.
func (r SecretRef) Resolve() (Secret, error) {
	if err := r.Validate(); err != nil {
		return Secret{}, err
	}
	envField, fileField := r.Field+"_env", r.Field+"_file"
	switch {
	case r.Env != "":
		v, ok := os.LookupEnv(r.Env)
		if !ok {
			return Secret{}, FieldErrorf(envField, "variable %s is not set", r.Env)
		}
		if v = strings.TrimSpace(v); v == "" {
			return Secret{}, FieldErrorf(envField, "variable %s is empty", r.Env)
		}
		return Secret{v}, nil
	case r.File != "":
		fi, err := os.Stat(r.File)
		if err != nil {
			return Secret{}, FieldErrorf(fileField, "%v", err)
		}
		if fi.Mode().Perm()&0o004 != 0 {
			return Secret{}, FieldErrorf(fileField, "%s is readable by everyone (mode %#o): chmod o-r it", r.File, fi.Mode().Perm())
		}
		b, err := os.ReadFile(r.File)
		if err != nil {
			return Secret{}, FieldErrorf(fileField, "%v", err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return Secret{}, FieldErrorf(fileField, "%s is empty", r.File)
		}
		return Secret{v}, nil
	}
	return Secret{}, nil
}

// secretSet remembers every secret resolved for one Config, for Redact.
type secretSet struct {
	mu   sync.Mutex
	vals []string
}

func (s *secretSet) add(sec Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals = append(s.vals, secretValues(sec)...)
}

func (s *secretSet) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.vals)
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

// AddSecret records a secret a listener resolved itself (crashpager's
// dead-man URL), so that Redact removes it too.
func (c *Config) AddSecret(value string) {
	if value == "" {
		return
	}
	if c.secrets == nil {
		c.secrets = &secretSet{}
	}
	c.secrets.add(Secret{v: value})
}
