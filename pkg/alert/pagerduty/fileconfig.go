package pagerduty

import (
	"errors"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
)

// FileConfig is a pagerduty sink's own fields in the shared config file.
//
//	sinks:
//	  - {name: oncall, type: pagerduty, routing_key_env: PD_ROUTING_KEY}
type FileConfig struct {
	RoutingKeyEnv  string `yaml:"routing_key_env,omitempty"`
	RoutingKeyFile string `yaml:"routing_key_file,omitempty"`
	EventsURL      string `yaml:"events_url,omitempty"` // default https://events.pagerduty.com
}

func (c *FileConfig) routingKey() config.SecretRef {
	return config.SecretRef{Field: "routing_key", Env: c.RoutingKeyEnv, File: c.RoutingKeyFile, Required: true}
}

// Validate checks the fields without reading a secret. Errors are
// config.FieldErrors relative to the sink entry.
func (c *FileConfig) Validate() error {
	errs := []error{c.routingKey().Validate()}
	if c.EventsURL != "" {
		errs = append(errs, config.CheckURL("events_url", c.EventsURL))
	}
	return errors.Join(errs...)
}

// Build resolves the routing key and returns the Notifier.
func (c *FileConfig) Build(env config.SinkEnv) (alert.Notifier, error) {
	key, err := env.Resolve(c.routingKey())
	if err != nil {
		return nil, err
	}
	return New(Config{RoutingKey: key.Value(), EventsURL: c.EventsURL, Timeout: env.Timeout})
}
