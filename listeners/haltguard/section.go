package main

import (
	"os"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/halt"
)

// section is the `listeners: haltguard:` section of the shared YAML config
// (its type and validation live in package sections, so that every
// binary's -check validates it).
type section = sections.Haltguard

// pageConfig is what haltguard's pages say beyond the halt itself.
type pageConfig struct {
	Host    string // the shared config's host
	Runbook string // a link put in every page
}

// configs turns the section into the engine's Config and the pages'
// settings, validated; errors name the field by its path in the file
// ("listeners.haltguard.targets: ..."). The engine's Self is taken from
// the environment supervisord gives its children (SUPERVISOR_GROUP_NAME and
// SUPERVISOR_PROCESS_NAME), "" outside supervisord. host is the shared
// config's.
func configs(sec *section, host string) (halt.Config, pageConfig, error) {
	c, err := sec.HaltConfig(selfName())
	if err != nil {
		return halt.Config{}, pageConfig{}, err
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
