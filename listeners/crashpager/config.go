package main

import (
	"fmt"

	"github.com/superguard/superguard/listeners/internal/sections"
)

// Config is crashpager's own configuration: the `listeners: crashpager:`
// section of the shared YAML file (its type, defaults and validation live
// in package sections, so that every binary's -check validates it), with
// flags applied over it.
type Config = sections.Crashpager

// DeadManConfig configures the dead-man's switch.
type DeadManConfig = sections.DeadMan

// prepareConfig fills in the defaults, validates, and resolves the
// dead-man URL (the skeleton's Prepare).
func prepareConfig(c *Config, getenv func(string) string) error {
	*c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return err
	}
	if err := c.DeadMan.Resolve(getenv); err != nil {
		return fmt.Errorf("listeners.crashpager.deadman.%w", err)
	}
	return nil
}
