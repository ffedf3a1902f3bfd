package main

import (
	"fmt"
	"strings"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/procmatch"
)

// Config is eventlog's configuration, from its flags.
type Config struct {
	// Events lists event names or prefixes to log; empty logs every event.
	Events []string
	// Processes lists process patterns; empty logs events of every process.
	Processes []string
}

// Validate checks every field; errors name the flag.
func (c Config) Validate() error {
	for _, e := range c.Events {
		if !validEventName(e) {
			return fmt.Errorf("-events: %q is not an event name or prefix (A-Z, 0-9, _)", e)
		}
		if !eventlistener.MatchesEventType(e) {
			return fmt.Errorf("-events: %q names no supervisord event type (%s, or a prefix of them ending before an underscore)", e, strings.Join(eventlistener.EventTypes, ", "))
		}
	}
	for _, p := range c.Processes {
		if err := procmatch.Check(p); err != nil {
			return fmt.Errorf("-process: %w", err)
		}
	}
	return nil
}

func validEventName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
