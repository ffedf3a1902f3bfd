package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/superguard/superguard/internal/httpurl"
)

// DefaultSinkTimeout bounds one delivery attempt when a sink sets no timeout.
const DefaultSinkTimeout = 10 * time.Second

// Sink is one named alert destination. This package decodes only the
// fields every sink has; the rest of the entry stays in Spec and is decoded
// strictly by the sink type's own config when the sink is built
// (pkg/alert/notify holds the registry of sink types), so decoding the file
// knows no sink type and reads no secret.
type Sink struct {
	Name    string    `yaml:"name"`
	Type    string    `yaml:"type"`              // a type of the sink registry: slack, pagerduty, alertmanager, log
	Rate    *float64  `yaml:"rate,omitempty"`    // deliveries per second; 0 means no limit; default by type
	Timeout Duration  `yaml:"timeout,omitempty"` // per delivery attempt; default 10s
	Spec    yaml.Node `yaml:"-" json:"-"`        // the whole entry as written
}

// commonSinkFields are the keys Sink decodes itself.
var commonSinkFields = map[string]bool{"name": true, "type": true, "rate": true, "timeout": true}

// UnmarshalYAML implements yaml.Unmarshaler: it keeps the entry for the
// sink type to decode.
func (s *Sink) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a sink with name and type", n.Line)
	}
	type plain Sink
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = Sink(p)
	s.Spec = *n
	return nil
}

// MarshalYAML implements yaml.Marshaler: the common fields and where the
// secrets come from (the *_env and *_file keys). The sink's other keys are
// left out: this package cannot tell a secret written inline (rejected
// only when the sink is built) from a harmless field.
func (s Sink) MarshalYAML() (any, error) {
	type plain Sink
	out := &yaml.Node{}
	if err := out.Encode(plain(s)); err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(s.Spec.Content); i += 2 {
		k := s.Spec.Content[i].Value
		if !commonSinkFields[k] && (strings.HasSuffix(k, "_env") || strings.HasSuffix(k, "_file")) {
			out.Content = append(out.Content, s.Spec.Content[i], s.Spec.Content[i+1])
		}
	}
	return out, nil
}

// Decode decodes the sink's own fields (all but name, type, rate and
// timeout) into into, a pointer to the sink type's config struct. A key
// into has no field for is an error naming it; a secret written inline
// ("token" where into has "token_env") says to use *_env or *_file and
// never repeats the value. Errors are FieldErrors relative to the sink.
func (s *Sink) Decode(into any) error {
	known := yamlFields(reflect.TypeOf(into))
	body := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	var errs []error
	for i := 0; i+1 < len(s.Spec.Content); i += 2 {
		k := s.Spec.Content[i].Value
		switch {
		case commonSinkFields[k]:
		case known[k]:
			body.Content = append(body.Content, s.Spec.Content[i], s.Spec.Content[i+1])
		case known[k+"_env"]:
			errs = append(errs, FieldErrorf(k, "secrets must not be written in the config file; use %s_env or %s_file", k, k))
		default:
			errs = append(errs, FieldErrorf(k, "not used by a %s sink", s.Type))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return body.Decode(into)
}

// yamlFields lists the YAML keys of a struct type (through pointers and
// inline fields).
func yamlFields(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case strings.Contains(opts, "inline"):
			for k := range yamlFields(f.Type) {
				out[k] = true
			}
		case name == "":
			out[strings.ToLower(f.Name)] = true
		default:
			out[name] = true
		}
	}
	return out
}

// RateLimit returns the sink's deliveries per second (0: no limit), def
// when the file sets none (the sink type's default).
func (s *Sink) RateLimit(def float64) float64 {
	if s.Rate != nil {
		return *s.Rate
	}
	return def
}

// AttemptTimeout returns the per-attempt deadline.
func (s *Sink) AttemptTimeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout.Std()
	}
	return DefaultSinkTimeout
}

// SinkEnv is what a sink type's config is built with: the sink's name and
// attempt deadline, a logger, and Resolve, which reads a secret and
// remembers it for Config.Redact.
type SinkEnv struct {
	Name    string
	Timeout time.Duration
	Log     zerolog.Logger
	Resolve func(SecretRef) (Secret, error)
}

// SinkEnv returns the environment the sink s of c is built with.
func (c *Config) SinkEnv(s *Sink, log zerolog.Logger) SinkEnv {
	return SinkEnv{Name: s.Name, Timeout: s.AttemptTimeout(), Log: log, Resolve: c.resolve}
}

// resolve reads a secret and adds it to what Redact removes.
func (c *Config) resolve(r SecretRef) (Secret, error) {
	sec, err := r.Resolve()
	if err == nil && sec.IsSet() {
		c.secrets.add(sec)
	}
	return sec, err
}

var sinkName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`) })

// validate checks the fields every sink has at path ("sinks[1]"); the sink
// type checks the rest when it is built.
func (s *Sink) validate(path string) []error {
	var errs []error
	if !sinkName().MatchString(s.Name) {
		errs = append(errs, FieldErrorf(path+".name", "%q: want letters, digits, '.', '_' or '-'", s.Name))
	}
	if s.Type == "" {
		errs = append(errs, FieldErrorf(path+".type", "required"))
	}
	if s.Rate != nil && *s.Rate < 0 {
		errs = append(errs, FieldErrorf(path+".rate", "must not be negative (0 means no limit)"))
	}
	if s.Timeout < 0 {
		errs = append(errs, FieldErrorf(path+".timeout", "must not be negative"))
	}
	return errs
}

// CheckURL accepts an absolute http(s) URL without credentials in it;
// errors are FieldErrors at field.
func CheckURL(field, raw string) error {
	u, ok := httpurl.Parse(raw)
	switch {
	case !ok:
		return FieldErrorf(field, "want an absolute http or https URL")
	case u.User != nil:
		return FieldErrorf(field, "credentials must not be written in the URL; use username with password_env or password_file")
	}
	return nil
}
