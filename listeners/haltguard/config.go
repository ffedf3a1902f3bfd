package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// listenerName is haltguard's name in logs, alerts, heartbeats and the
// shared config's listeners map.
const listenerName = "haltguard"

// fileConfig is the `listeners: haltguard:` section of the shared YAML
// config.
type fileConfig struct {
	Critical        config.Patterns `yaml:"critical"`          // e.g. risk_manager, or [risk:*]
	Targets         config.Patterns `yaml:"targets"`           // e.g. trading, or [trading:*, hedger]
	TriggerOnExited bool            `yaml:"trigger_on_exited"` // halt on the first unexpected EXITED, not only FATAL
	VerifyTimeout   config.Duration `yaml:"verify_timeout"`    // 0: the targets' stopwaitsecs + 2s
	Flatten         struct {
		Command []string        `yaml:"command"` // argv, no shell
		Timeout config.Duration `yaml:"timeout"` // default 30s
	} `yaml:"flatten"`
	Runbook  string `yaml:"runbook"`
	StopMode string `yaml:"stop_mode"` // multicall (default) or concurrent
}

// settings is everything a haltguard command needs, resolved from flags,
// the shared config file and the environment.
type settings struct {
	ConfigPath string
	Shared     *config.Config
	Halt       halt.Config
	StatePath  string
	Supervisor supervisor.Config
}

// loadSettings reads the shared config (configFlag, else
// $SUPERGUARD_CONFIG, else the default file if it exists) and haltguard's
// section of it. Under supervisord (listener) the supervisord URL and
// credentials come from the environment supervisord gives its children
// first; from an operator's shell, from the config file first.
func loadSettings(configFlag, stateFlag string, underSupervisord bool) (*settings, error) {
	path := config.Path(configFlag)
	shared, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	hc, err := haltConfig(shared)
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	return &settings{
		ConfigPath: path,
		Shared:     shared,
		Halt:       hc,
		StatePath:  state.Path(stateFlag, shared.StatePath),
		Supervisor: supervisorConfig(shared.Supervisor, underSupervisord),
	}, nil
}

// haltConfig decodes and validates haltguard's section; errors name the
// field by its path in the file.
func haltConfig(shared *config.Config) (halt.Config, error) {
	var fc fileConfig
	if err := shared.Listener(listenerName, &fc); err != nil {
		return halt.Config{}, err
	}
	hc := halt.Config{
		Host:            shared.Host,
		Critical:        halt.Patterns(fc.Critical),
		Targets:         halt.Patterns(fc.Targets),
		TriggerOnExited: fc.TriggerOnExited,
		VerifyTimeout:   fc.VerifyTimeout.Std(),
		Flatten:         halt.FlattenConfig{Command: fc.Flatten.Command, Timeout: fc.Flatten.Timeout.Std()},
		Runbook:         fc.Runbook,
		StopMode:        halt.StopMode(fc.StopMode),
		Self:            selfName(),
	}
	if err := hc.Validate(); err != nil {
		return halt.Config{}, prefixLines("listeners."+listenerName+".", err)
	}
	return hc, nil
}

// selfName is haltguard's own "group:name" under supervisord, "" outside.
func selfName() string {
	name := os.Getenv("SUPERVISOR_PROCESS_NAME")
	if name == "" {
		return ""
	}
	group := os.Getenv("SUPERVISOR_GROUP_NAME")
	if group == "" {
		group = name
	}
	return group + ":" + name
}

// supervisorConfig picks the supervisord URL and credentials: from the
// environment first under supervisord (it sets SUPERVISOR_SERVER_URL), from
// the config file's supervisor section first in an operator's shell; what
// the first source lacks comes from the other. Credentials are never mixed
// between sources.
func supervisorConfig(fromFile config.Supervisor, preferEnv bool) supervisor.Config {
	env := supervisor.ConfigFromEnv()
	file := supervisor.Config{URL: fromFile.URL, Username: fromFile.Username, Password: fromFile.Password.Value(),
		Timeout: supervisor.DefaultTimeout}
	first, second := file, env
	if preferEnv {
		first, second = env, file
	}
	c := first
	if c.URL == "" {
		c.URL = second.URL
	}
	if c.Username == "" {
		c.Username, c.Password, c.PasswordFile = second.Username, second.Password, second.PasswordFile
	}
	return c
}

// eventStateFile is where the protocol loop keeps its delivery tracking:
// next to the state store.
func eventStateFile(statePath string) string {
	return filepath.Join(filepath.Dir(statePath), listenerName+".events.json")
}

// prefixLines prefixes every line of err's message (errors.Join puts one
// problem per line).
func prefixLines(prefix string, err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return errors.New(strings.Join(lines, "\n"))
}
