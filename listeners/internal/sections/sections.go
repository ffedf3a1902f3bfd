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

// Defaulted is a section with defaults to fill in before it is validated.
type Defaulted[S any] interface {
	WithDefaults() S
	Validate() error
}

// Prepare fills in s's defaults and validates it (a Spec's Prepare).
func Prepare[S Defaulted[S]](s *S) error {
	*s = (*s).WithDefaults()
	return (*s).Validate()
}

// Read decodes listeners.<name> of c strictly, fills in its defaults and
// validates it (an operator command's view of a listener's section).
func Read[S Defaulted[S]](c *config.Config, name string) (S, error) {
	var s S
	if err := c.Listener(name, &s); err != nil {
		return s, err
	}
	return s, Prepare(&s)
}

// check is a checks entry for a section with defaults.
func check[S Defaulted[S]](name string) func(c *config.Config) error {
	return func(c *config.Config) error {
		_, err := Read[S](c, name)
		return err
	}
}

// checks validates one listener's section of the file, strictly decoded.
var checks = map[string]func(c *config.Config) error{
	"crashpager":  check[Crashpager]("crashpager"),
	"exporter":    check[Exporter]("exporter"),
	"healthprobe": check[Healthprobe]("healthprobe"),
	"marketclock": check[Marketclock]("marketclock"),
	"memguard":    check[Memguard]("memguard"),
	"haltguard": func(c *config.Config) error {
		var s Haltguard
		if err := c.Listener("haltguard", &s); err != nil {
			return err
		}
		return s.Validate()
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
