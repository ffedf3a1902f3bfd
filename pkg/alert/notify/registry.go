// Package notify is the one registry of alert sink types and the factory
// that builds a Notifier for every sink of the shared config, the shape of
// Alertmanager's config/receiver: pkg/config decodes only what every sink
// has (name, type, rate, timeout) and keeps the rest of each entry; here
// each entry is decoded strictly by its type's own config (slack.FileConfig,
// pagerduty.FileConfig, ...), validated, and built, resolving its secrets
// only then.
//
// Adding a sink type means writing its package (a Notifier, and a
// FileConfig with its YAML fields, Validate and Build) and adding one row
// to types below (its name, default rate and default routes); nothing else
// names a sink type.
package notify

import (
	"slices"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alertmanager"
	"github.com/superguard/superguard/pkg/alert/logsink"
	"github.com/superguard/superguard/pkg/alert/pagerduty"
	"github.com/superguard/superguard/pkg/alert/slack"
	"github.com/superguard/superguard/pkg/config"
)

// Type is one kind of sink: its name in the config file, the defaults the
// pipeline and the router apply to its sinks, and how its entry is built.
type Type struct {
	Name string
	// Rate is the default deliveries per second (0: no limit).
	Rate float64
	// MinRetryAfter is the least wait after the service asked to be left
	// alone (a DeliveryError with RetryAfter).
	MinRetryAfter time.Duration
	// Severities are the alert severities its sinks get when the file has
	// no routes.
	Severities []alert.Severity
	// Fallback sinks get, without routes, what no sink's Severities took.
	Fallback bool
	// Always sinks get every alert when the file has no routes.
	Always bool

	build func(s *config.Sink, env config.SinkEnv) (alert.Notifier, error)
}

// fileConfig is what a sink package's FileConfig implements (through its
// pointer type P).
type fileConfig[C any] interface {
	*C
	Validate() error
	Build(env config.SinkEnv) (alert.Notifier, error)
}

// builder decodes an entry strictly into the sink's FileConfig C,
// validates it, and builds it.
func builder[C any, P fileConfig[C]]() func(*config.Sink, config.SinkEnv) (alert.Notifier, error) {
	return func(s *config.Sink, env config.SinkEnv) (alert.Notifier, error) {
		var c C
		if err := s.Decode(P(&c)); err != nil {
			return nil, err
		}
		if err := P(&c).Validate(); err != nil {
			return nil, err
		}
		return P(&c).Build(env)
	}
}

// types is the registry, in the order the default routes list sinks.
var types = []Type{
	// PagerDuty takes about 120 events a minute per routing key, and asks
	// for at least 30 s after a 429.
	{Name: "pagerduty", Rate: 2, MinRetryAfter: pagerduty.MinRateLimitWait,
		Severities: []alert.Severity{alert.Critical},
		build:      builder[pagerduty.FileConfig]()},
	// Slack allows about one message a second per channel.
	{Name: "slack", Rate: 1,
		Severities: []alert.Severity{alert.Critical, alert.Error, alert.Warning},
		build:      builder[slack.FileConfig]()},
	{Name: config.DefaultSink.Type, Severities: []alert.Severity{alert.Info}, Fallback: true,
		build: builder[logsink.FileConfig]()},
	{Name: "alertmanager", Rate: 10, Always: true,
		build: builder[alertmanager.FileConfig]()},
}

// Types returns every sink type, in registry order.
func Types() []Type { return slices.Clone(types) }

// Lookup returns the sink type named name.
func Lookup(name string) (Type, bool) {
	for _, t := range types {
		if t.Name == name {
			return t, true
		}
	}
	return Type{}, false
}

// typeNames words the list of types for an error: "a, b, c or d".
func typeNames() string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.Name
	}
	last := len(names) - 1
	return strings.Join(names[:last], ", ") + " or " + names[last]
}
