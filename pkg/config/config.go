// Package config loads the one YAML file every superguard listener on a host
// shares: the host name, where the state store lives, how to reach
// supervisord, the alert sinks and the routes to them, deduplication, quiet
// hours, maintenance windows, and a section per listener that each listener
// decodes itself (Config.Listener).
//
// The file is named by a -config flag or $SUPERGUARD_CONFIG (see Path).
// Decoding is strict: an unknown field is an error. Errors name the bad
// field by its path in the file, e.g.
//
//	dedup.reminder: 5m0s: must be 0 (off) or at least dedup.window
//	sinks[1].routing_key_env: variable PD_KEY is not set   (when the sink is built)
//
// Secrets (webhook URLs, tokens, routing keys, passwords) are only ever
// named by *_env or *_file fields; one written inline is an error. A sink's
// secrets are resolved when the sink is built (pkg/alert/notify), never
// when the file is read, so a command that sends nothing needs none of
// them; the supervisor password is resolved by Load. Resolved secrets are
// Secret values, which print as [REDACTED] in String, in JSON and in logs,
// and Redact scrubs every secret resolved for the Config from any text.
//
// Each sink entry keeps name, type, rate and timeout here; its other fields
// belong to the sink type, which decodes them strictly when it is built.
// Routing, quiet hours and maintenance are decoded and checked here and
// evaluated next to the alert pipeline (pkg/alert/route).
//
// A complete file:
//
//	host: trade-01                        # default: os.Hostname()
//	state_path: /var/lib/superguard/state.db
//	supervisor:
//	  url: unix:///var/run/supervisor.sock
//	  username: superguard
//	  password_file: /etc/superguard/supervisor.pass
//	sinks:
//	  - {name: oncall, type: pagerduty, routing_key_env: PD_ROUTING_KEY}
//	  - {name: ops, type: slack, token_env: SLACK_BOT_TOKEN, channel: "#trading-ops", rate: 1}
//	  - {name: am, type: alertmanager, urls: ["http://am-1:9093", "http://am-2:9093"]}
//	  - {name: log, type: log}
//	routes:                               # first match wins unless continue: true
//	  - match: {condition: [halt, budget]}
//	    sinks: [oncall, ops]
//	  - match: {severity: critical, processes: ["strategies:*"]}
//	    sinks: [oncall, ops]
//	  - match: {severity: [error, warning]}
//	    sinks: [ops]
//	  - sinks: [log]                      # everything else
//	dedup:
//	  window: 5m                          # one notification per key per window
//	  reminder: 1h                        # 0 disables reminders
//	  flap: {changes: 6, window: 15m}     # 0 changes disables flap detection
//	quiet_hours:
//	  timezone: America/New_York
//	  windows:
//	    - {days: mon-fri, start: "17:00", end: "08:00"}
//	    - {days: [sat, sun], start: "00:00", end: "24:00"}
//	maintenance:
//	  - {name: broker-upgrade, from: 2026-07-04T20:00:00Z, until: 2026-07-04T23:00:00Z, processes: ["gateways:*"]}
//	  - {name: nightly-restart, timezone: America/New_York, days: mon-fri, start: "02:00", end: "02:30"}
//	listeners:
//	  crashpager: {...}                   # decoded by the listener with Config.Listener
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPath is the environment variable naming the config file when no
// -config flag does.
const EnvPath = "SUPERGUARD_CONFIG"

// DefaultPath is read when neither the flag nor $SUPERGUARD_CONFIG names a
// file and it exists.
const DefaultPath = "/etc/superguard/superguard.yaml"

// Defaults for the dedup section.
const (
	DefaultWindow      = 5 * time.Minute
	DefaultReminder    = time.Hour
	DefaultFlapChanges = 6
	DefaultFlapWindow  = 15 * time.Minute
)

// Config is the shared configuration. Build it with Load or Parse, which
// apply defaults and Validate it.
type Config struct {
	Host        string               `yaml:"host"`
	StatePath   string               `yaml:"state_path,omitempty"` // see state.Path for how flag and env override it
	Supervisor  Supervisor           `yaml:"supervisor,omitempty"`
	Sinks       []Sink               `yaml:"sinks"`
	Routes      []Route              `yaml:"routes,omitempty"`
	Dedup       Dedup                `yaml:"dedup"`
	QuietHours  *QuietHours          `yaml:"quiet_hours,omitempty"`
	Maintenance []Maintenance        `yaml:"maintenance,omitempty"`
	Listeners   map[string]yaml.Node `yaml:"listeners,omitempty"`

	// Warnings are deprecations found by Load or Parse, one line each,
	// saying what to write instead. They never fail a load; -check prints
	// them.
	Warnings []string `yaml:"-" json:"-"`

	secrets *secretSet // every secret resolved for this config, for Redact
	raw     []byte     // the document parsed, for its line numbers
}

// Supervisor says how operator commands reach supervisord from a plain SSH
// session (listeners started by supervisord get SUPERVISOR_SERVER_URL).
type Supervisor struct {
	URL          string `yaml:"url,omitempty"` // unix:///path or http://host:port
	Username     string `yaml:"username,omitempty"`
	PasswordEnv  string `yaml:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	Password     Secret `yaml:"-"` // resolved from PasswordEnv or PasswordFile
}

// Dedup tunes aggregation: one notification per key per Window carrying the
// count it absorbed, a reminder every Reminder while an incident stays
// open, and flap detection.
type Dedup struct {
	Window   Duration `yaml:"window"`
	Reminder Duration `yaml:"reminder"` // 0 disables reminders
	Flap     Flap     `yaml:"flap"`
}

// Flap marks a key flapping when it opened or resolved an incident at least
// Changes times within Window; a flapping key notifies at most once per
// Window.
type Flap struct {
	Changes int      `yaml:"changes"` // 0 disables flap detection
	Window  Duration `yaml:"window"`
}

// Default returns the configuration of an empty file (before Validate fills
// in the host name and the implicit log sink).
func Default() *Config {
	return &Config{secrets: &secretSet{}, Dedup: Dedup{
		Window:   Duration(DefaultWindow),
		Reminder: Duration(DefaultReminder),
		Flap:     Flap{Changes: DefaultFlapChanges, Window: Duration(DefaultFlapWindow)},
	}}
}

// DefaultStatePath is where the shared state store lives when neither a
// flag, $SUPERGUARD_STATE nor state_path names another file (package
// state resolves it).
const DefaultStatePath = "/var/lib/superguard/state.db"

// HaltLatchPaths are the kill switch's latch files, which haltguard writes
// and its gate reads: latchFile (default halt.latch in the directory of
// the state store at statePath), then mirror when set.
func HaltLatchPaths(statePath, latchFile, mirror string) []string {
	if latchFile == "" {
		latchFile = filepath.Join(filepath.Dir(statePath), "halt.latch")
	}
	paths := []string{latchFile}
	if mirror != "" {
		paths = append(paths, mirror)
	}
	return paths
}

// Path picks the config file: the flag value if set, else
// $SUPERGUARD_CONFIG, else DefaultPath if that file exists, else "" (no file:
// defaults only).
func Path(flag string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	if _, err := os.Stat(DefaultPath); err == nil {
		return DefaultPath
	}
	return ""
}

// Load reads, parses and validates the file at path. An empty path yields
// the defaults. Errors start with the file name.
func Load(path string) (*Config, error) { return load(path, true) }

// LoadUnresolved is Load without reading the supervisor password (sinks'
// secrets are never read by loading): the *_env and *_file fields are
// checked for shape only. It is for operator tools run from a shell that
// lacks the listeners' environment and never talk to supervisord.
func LoadUnresolved(path string) (*Config, error) { return load(path, false) }

func load(path string, resolve bool) (*Config, error) {
	if path == "" {
		return parse(nil, resolve)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := parse(b, resolve)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a YAML document strictly, applies defaults and validates.
func Parse(data []byte) (*Config, error) { return parse(data, true) }

func parse(data []byte, resolve bool) (*Config, error) {
	c := Default()
	if len(bytes.TrimSpace(data)) > 0 {
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			return nil, err
		}
		if err := inlineSupervisorPassword(&root); err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return nil, yamlError(err)
		}
		c.raw = data
	}
	if err := c.validate(resolve); err != nil {
		return nil, c.LocateError(err)
	}
	return c, nil
}

// Validate fills in what defaults depend on the environment (the host name,
// a log sink when no sink is configured), resolves the supervisor password,
// and checks every field this package decodes (a sink's own fields are
// checked when it is built). The error joins one FieldError per problem;
// deprecations are added to Warnings.
func (c *Config) Validate() error { return c.validate(true) }

func (c *Config) validate(resolve bool) error {
	var errs []error
	add := func(es ...error) { errs = append(errs, es...) }
	if c.Host == "" {
		h, err := os.Hostname()
		if err != nil {
			add(FieldErrorf("host", "not set and the host name is unknown: %v", err))
		}
		c.Host = h
	}
	if strings.ContainsAny(c.Host, "/ \t\n") {
		add(FieldErrorf("host", "%q must not contain '/' or spaces (it is part of every alert key)", c.Host))
	}
	add(c.Supervisor.validate("supervisor", resolve)...)
	if c.secrets == nil {
		c.secrets = &secretSet{}
	}
	c.Warnings = nil
	if len(c.Sinks) == 0 {
		c.Sinks = []Sink{DefaultSink}
	}
	names := map[string]bool{}
	for i := range c.Sinks {
		path := fmt.Sprintf("sinks[%d]", i)
		add(c.Sinks[i].validate(path)...)
		if names[c.Sinks[i].Name] {
			add(FieldErrorf(path+".name", "duplicate sink name %q", c.Sinks[i].Name))
		}
		names[c.Sinks[i].Name] = true
	}
	for i := range c.Routes {
		path := fmt.Sprintf("routes[%d]", i)
		r := &c.Routes[i]
		add(r.Match.validate(path + ".match")...)
		c.warn(r.Match.deprecated(path + ".match"))
		if len(r.Sinks) == 0 {
			add(FieldErrorf(path+".sinks", "at least one sink is required"))
		}
		for j, s := range r.Sinks {
			if !names[s] {
				add(FieldErrorf(fmt.Sprintf("%s.sinks[%d]", path, j), "no sink named %q", s))
			}
		}
	}
	d := &c.Dedup
	if d.Window < Duration(time.Second) {
		add(FieldErrorf("dedup.window", "%s: must be at least 1s", d.Window))
	}
	if d.Reminder < 0 || (d.Reminder > 0 && d.Reminder < d.Window) {
		add(FieldErrorf("dedup.reminder", "%s: must be 0 (off) or at least dedup.window", d.Reminder))
	}
	if d.Flap.Changes < 0 || d.Flap.Changes == 1 {
		add(FieldErrorf("dedup.flap.changes", "%d: must be 0 (off) or at least 2", d.Flap.Changes))
	}
	if d.Flap.Changes > 0 && d.Flap.Window < Duration(time.Second) {
		add(FieldErrorf("dedup.flap.window", "%s: must be at least 1s", d.Flap.Window))
	}
	if c.QuietHours != nil {
		add(c.QuietHours.validate("quiet_hours")...)
	}
	for i := range c.Maintenance {
		path := fmt.Sprintf("maintenance[%d]", i)
		add(c.Maintenance[i].validate(path)...)
		c.warn(c.Maintenance[i].deprecated(path))
	}
	return errors.Join(errs...)
}

func (s *Supervisor) validate(path string, resolve bool) []error {
	var errs []error
	if s.URL != "" && !strings.HasPrefix(s.URL, "unix://") {
		if err := CheckURL(path+".url", s.URL); err != nil {
			errs = append(errs, err)
		}
	}
	ref := SecretRef{Field: "password", Env: s.PasswordEnv, File: s.PasswordFile}
	if !resolve {
		if err := ref.Validate(); err != nil {
			errs = append(errs, Under(path, err))
		}
		return errs
	}
	pw, err := ref.Resolve()
	if err != nil {
		errs = append(errs, Under(path, err))
	}
	s.Password = pw
	return errs
}

// warn records a deprecation ("" is none).
func (c *Config) warn(msg string) {
	if msg != "" {
		c.Warnings = append(c.Warnings, msg)
	}
}

// Sink returns the sink named name.
func (c *Config) Sink(name string) (*Sink, bool) {
	for i := range c.Sinks {
		if c.Sinks[i].Name == name {
			return &c.Sinks[i], true
		}
	}
	return nil, false
}

// Redact replaces every secret resolved for the config, by Load or by
// building its sinks (and, for URL secrets, their path and query), in s
// with [REDACTED].
func (c *Config) Redact(s string) string {
	var secrets []string
	if c.secrets != nil {
		secrets = c.secrets.all()
	}
	secrets = append(secrets, secretValues(c.Supervisor.Password)...)
	// Longest first, so a URL is replaced whole before its path is.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// Render renders the configuration as YAML, secrets shown as where they
// come from and never their values. It is a function, not a String
// method, so that a binary that never reads YAML (eventlog) does not link
// the YAML encoder through fmt.Stringer.
func Render(c *Config) string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("config: %v", err)
	}
	return c.Redact(string(b))
}

// Listener decodes the listeners.<name> section into into, strictly. A
// missing section leaves into unchanged (its defaults). Errors give the
// file's line numbers and name no Go type.
func (c *Config) Listener(name string, into any) error {
	n, ok := c.Listeners[name]
	if !ok {
		return nil
	}
	var err error
	if c.raw != nil {
		err = decodeListener(c.raw, name, into)
	} else {
		// Built in code rather than parsed: no lines to give.
		var b []byte
		if b, err = yaml.Marshal(&n); err == nil {
			dec := yaml.NewDecoder(bytes.NewReader(b))
			dec.KnownFields(true)
			err = dec.Decode(into)
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("listeners.%s: %w", name, yamlError(err))
	}
	return nil
}

// inlineSupervisorPassword rejects a supervisor password written in the
// file itself, naming the field and never the value. (A sink's inline
// secrets are rejected when its own fields are decoded, see Sink.Decode.)
func inlineSupervisorPassword(root *yaml.Node) error {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		v := doc.Content[i+1]
		if doc.Content[i].Value != "supervisor" || v.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			if v.Content[j].Value == "password" {
				return FieldErrorf("supervisor.password", "secrets must not be written in the config file; use password_env or password_file")
			}
		}
	}
	return nil
}
