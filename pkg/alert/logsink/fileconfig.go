package logsink

import (
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
)

// FileConfig is a log sink's own fields in the shared config file: none.
//
//	sinks:
//	  - {name: log, type: log}
type FileConfig struct{}

// Validate implements the sink registry's contract; a log sink has nothing
// to check.
func (c *FileConfig) Validate() error { return nil }

// Build returns a Notifier writing to the sink's logger, tagged with the
// sink's name.
func (c *FileConfig) Build(env config.SinkEnv) (alert.Notifier, error) {
	return New(env.Log.With().Str("sink_name", env.Name).Logger()), nil
}
