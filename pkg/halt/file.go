package halt

import (
	"errors"
	"os"
	"strings"

	"github.com/superguard/superguard/pkg/config"
)

// FileConfig is the `listeners: haltguard:` section of the shared YAML
// config:
//
//	listeners:
//	  haltguard:
//	    critical: [risk_manager]          # programs whose failure halts trading
//	    targets: [trading]                # groups or programs a halt stops
//	    trigger_on_exited: true           # halt on the first unexpected EXITED, not only FATAL
//	    verify_timeout: 0s                # 0: the targets' largest stopwaitsecs + 2s, then SIGKILL
//	    flatten:
//	      command: [/opt/trading/bin/flatten-all]
//	      timeout: 30s
//	    runbook: https://wiki.example.com/kill-switch
//	    stop_mode: multicall              # or concurrent
type FileConfig struct {
	Critical        config.Patterns `yaml:"critical"`
	Targets         config.Patterns `yaml:"targets"`
	TriggerOnExited bool            `yaml:"trigger_on_exited"`
	VerifyTimeout   config.Duration `yaml:"verify_timeout"`
	Flatten         struct {
		Command []string        `yaml:"command"`
		Timeout config.Duration `yaml:"timeout"`
	} `yaml:"flatten"`
	Runbook  string `yaml:"runbook"`
	StopMode string `yaml:"stop_mode"`
}

// FromShared decodes and validates haltguard's section of the shared
// config; errors name the field by its path in the file
// ("listeners.haltguard.targets: ..."). Self is taken from the environment
// supervisord gives its children (SUPERVISOR_GROUP_NAME and
// SUPERVISOR_PROCESS_NAME), "" outside supervisord. Other listeners use it
// to know which processes a halt latch covers.
func FromShared(shared *config.Config) (Config, error) {
	var fc FileConfig
	if err := shared.Listener(ListenerName, &fc); err != nil {
		return Config{}, err
	}
	c := Config{
		Host:            shared.Host,
		Critical:        Patterns(fc.Critical),
		Targets:         Patterns(fc.Targets),
		TriggerOnExited: fc.TriggerOnExited,
		VerifyTimeout:   fc.VerifyTimeout.Std(),
		Flatten:         FlattenConfig{Command: fc.Flatten.Command, Timeout: fc.Flatten.Timeout.Std()},
		Runbook:         fc.Runbook,
		StopMode:        StopMode(fc.StopMode),
		Self:            selfName(),
	}
	if err := c.Validate(); err != nil {
		return Config{}, PrefixLines("listeners."+ListenerName+".", err)
	}
	return c, nil
}

// selfName is the running process's "group:name" under supervisord.
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

// PrefixLines prefixes every line of err's message (errors.Join puts one
// problem per line), e.g. with the path of the config section.
func PrefixLines(prefix string, err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return errors.New(strings.Join(lines, "\n"))
}
