// Package configfile plugs the shared YAML config file into the listener
// skeleton (listener.Spec.File). It is a package of its own so that a
// listener configured by flags alone (eventlog) links none of the file's
// reading and validation (every listener's section, the sinks, secrets):
// the skeleton reaches the file only through this value. (The YAML library
// itself still comes in through pkg/config's types, whose decoders it
// defines.)
package configfile

import (
	"fmt"
	"io"

	"github.com/superguard/superguard/pkg/confdoctor"
	"github.com/superguard/superguard/pkg/config"
)

// File is the shared config file (listener.ConfigFile).
type File struct {
	// Sections validates, for -check, the other listeners' sections of
	// the file (all but the one named skip) and rejects unknown ones
	// (package listeners/internal/sections does). Nil: only the
	// listener's own section is checked.
	Sections func(c *config.Config, skip string) error
}

// Load reads the file at path ("" for defaults only); resolve also reads
// the secrets it names (the supervisor password, the sinks').
func (File) Load(path string, resolve bool) (*config.Config, error) {
	if resolve {
		return config.Load(path)
	}
	return config.LoadUnresolved(path)
}

// Check loads the file at path for -check and writes its deprecation
// warnings to warn, one line each.
func (File) Check(path string, warn io.Writer) error {
	_, err := Check(path, warn)
	return err
}

// Section decodes listeners.<name> of c strictly into sec.
func (File) Section(c *config.Config, name string, sec any) error { return c.Listener(name, sec) }

// Locate adds the file and line to err where it names a YAML path.
func (File) Locate(c *config.Config, err error) error { return c.LocateError(err) }

// Halt decodes listeners.haltguard of c leniently for the conf doctor:
// nil when there is none or it is not a mapping.
func (File) Halt(c *config.Config) *confdoctor.Halt {
	node, ok := c.Listeners["haltguard"]
	if !ok {
		return nil
	}
	var h confdoctor.Halt
	if err := node.Decode(&h); err != nil {
		return nil
	}
	return &h
}

// Others runs Sections, if any.
func (f File) Others(c *config.Config, skip string) error {
	if f.Sections == nil {
		return nil
	}
	return f.Sections(c, skip)
}

// Check loads the config file at path without its secrets and writes its
// deprecation warnings to warn, one line each.
func Check(path string, warn io.Writer) (*config.Config, error) {
	cfg, err := config.LoadUnresolved(path)
	if err != nil {
		return nil, err
	}
	name := "config"
	if path != "" {
		name = "config " + path
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(warn, "%s: warning: %s\n", name, w)
	}
	return cfg, nil
}
