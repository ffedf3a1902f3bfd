package main

import (
	"errors"
	"os"
	"strings"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
)

// section is the `listeners: haltguard:` section of the shared YAML
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
//
// critical and targets are procmatch patterns.
type section struct {
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

// pageConfig is what haltguard's pages say beyond the halt itself.
type pageConfig struct {
	Host    string // the shared config's host
	Runbook string // a link put in every page
}

// prepare validates the section (the skeleton's Prepare).
func (sec *section) prepare() error {
	_, _, err := sec.configs("")
	return err
}

// configs turns the section into the engine's Config and the pages'
// settings, validated; errors name the field by its path in the file
// ("listeners.haltguard.targets: ..."). The engine's Self is taken from
// the environment supervisord gives its children (SUPERVISOR_GROUP_NAME and
// SUPERVISOR_PROCESS_NAME), "" outside supervisord. host is the shared
// config's.
func (sec *section) configs(host string) (halt.Config, pageConfig, error) {
	c := halt.Config{
		Critical:        sec.Critical,
		Targets:         sec.Targets,
		TriggerOnExited: sec.TriggerOnExited,
		VerifyTimeout:   sec.VerifyTimeout.Std(),
		Flatten:         halt.FlattenConfig{Command: sec.Flatten.Command, Timeout: sec.Flatten.Timeout.Std()},
		StopMode:        halt.StopMode(sec.StopMode),
		Self:            selfName(),
	}
	if err := c.Validate(); err != nil {
		return halt.Config{}, pageConfig{}, prefixLines("listeners."+listenerName+".", err)
	}
	return c, pageConfig{Host: host, Runbook: sec.Runbook}, nil
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

// prefixLines prefixes every line of err's message (errors.Join puts one
// problem per line), e.g. with the path of the config section.
func prefixLines(prefix string, err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return errors.New(strings.Join(lines, "\n"))
}
