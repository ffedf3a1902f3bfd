package main

import (
	"fmt"
	"path/filepath"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// listenerName is haltguard's name in logs, alerts, heartbeats and the
// shared config's listeners map.
const listenerName = "haltguard"

// settings is everything a haltguard command needs, resolved from flags,
// the shared config file and the environment.
type settings struct {
	Shared     *config.Config
	Halt       halt.Config
	Pages      pageConfig
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
	hc, pc, err := loadSection(shared)
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	return &settings{
		Shared:     shared,
		Halt:       hc,
		Pages:      pc,
		StatePath:  state.Path(stateFlag, shared.StatePath),
		Supervisor: supervisorConfig(shared.Supervisor, underSupervisord),
	}, nil
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
