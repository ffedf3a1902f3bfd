package main

import (
	"os"

	"github.com/superguard/superguard/pkg/halt"
)

// section is the `listeners: haltguard:` section of the shared YAML config
// (see halt.FileConfig), and the engine's Config made from it.
type section struct {
	File halt.FileConfig `yaml:",inline"`

	halt halt.Config // set by prepare
}

// prepare turns the section into the engine's Config and validates it;
// errors name the field by its path in the file
// ("listeners.haltguard.targets: ..."). Self is haltguard's own process
// name under supervisord, never a target.
func (s *section) prepare() error {
	fc := s.File
	s.halt = halt.Config{
		Critical:        halt.Patterns(fc.Critical),
		Targets:         halt.Patterns(fc.Targets),
		TriggerOnExited: fc.TriggerOnExited,
		VerifyTimeout:   fc.VerifyTimeout.Std(),
		Flatten:         halt.FlattenConfig{Command: fc.Flatten.Command, Timeout: fc.Flatten.Timeout.Std()},
		Runbook:         fc.Runbook,
		StopMode:        halt.StopMode(fc.StopMode),
		Self:            selfName(),
	}
	if err := s.halt.Validate(); err != nil {
		return halt.PrefixLines("listeners."+listenerName+".", err)
	}
	return nil
}

// selfName is the running process's "group:name" under supervisord, from
// the environment supervisord gives its children ("" outside supervisord).
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
