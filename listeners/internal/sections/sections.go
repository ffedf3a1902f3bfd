// Package sections holds the type and validation of every listener's
// section of the shared YAML config (`listeners: <name>:`), so that any
// superguard binary's -check validates the whole file, not only its own
// section, and a section under a name no listener has is an error rather
// than silently ignored. Each listener's main package uses its section type
// from here (e.g. `type Config = sections.Crashpager`).
//
// Adding a listener with a section: declare its type here with Validate,
// and add it to checks.
package sections

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/listener/configfile"
)

// File is the shared config file for a listener's Spec: its -check also
// validates every other listener's section (Check).
var File = configfile.File{Sections: Check}

// checks validates one listener's section of the file, strictly decoded.
var checks = map[string]func(c *config.Config) error{
	"crashpager": func(c *config.Config) error {
		var s Crashpager
		if err := c.Listener("crashpager", &s); err != nil {
			return err
		}
		return s.WithDefaults().Validate()
	},
	"haltguard": func(c *config.Config) error {
		var s Haltguard
		if err := c.Listener("haltguard", &s); err != nil {
			return err
		}
		return s.Validate()
	},
	"healthprobe": func(c *config.Config) error {
		var s Healthprobe
		if err := c.Listener("healthprobe", &s); err != nil {
			return err
		}
		return s.WithDefaults().Validate()
	},
	"memguard": func(c *config.Config) error {
		var s Memguard
		if err := c.Listener("memguard", &s); err != nil {
			return err
		}
		return s.WithDefaults().Validate()
	},
	"eventlog": func(*config.Config) error {
		return errors.New("listeners.eventlog: eventlog reads no section: it is configured by its flags (-events, -process) in its supervisord command line")
	},
}

// Names are the listeners that may have a section, sorted.
func Names() []string { return slices.Sorted(maps.Keys(checks)) }

// Check validates every section under listeners: in c except skip's (the
// calling listener checks its own with its flags applied), and rejects a
// name no listener has. Errors give the file's line numbers.
func Check(c *config.Config, skip string) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(c.Listeners)) {
		if name == skip {
			continue
		}
		check, ok := checks[name]
		if !ok {
			errs = append(errs, fmt.Errorf("listeners.%s: no listener is named %q (known: %s)", name, name, strings.Join(Names(), ", ")))
			continue
		}
		if err := check(c); err != nil {
			errs = append(errs, err)
		}
	}
	return c.LocateError(errors.Join(errs...))
}
