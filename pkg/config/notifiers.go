package config

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alertmanager"
	"github.com/superguard/superguard/pkg/alert/logsink"
	"github.com/superguard/superguard/pkg/alert/pagerduty"
	"github.com/superguard/superguard/pkg/alert/slack"
)

// BuildNotifiers constructs one Notifier per configured sink, keyed by sink
// name, with the secrets resolved at load. It does no network I/O. Log
// sinks write to logger. Errors name the sink and never carry a secret.
func BuildNotifiers(cfg *Config, logger zerolog.Logger) (map[string]alert.Notifier, error) {
	out := make(map[string]alert.Notifier, len(cfg.Sinks))
	for i := range cfg.Sinks {
		s := &cfg.Sinks[i]
		n, err := buildNotifier(s, logger)
		if err != nil {
			return nil, fmt.Errorf("sinks[%d] (%s): %s", i, s.Name, cfg.Redact(err.Error()))
		}
		out[s.Name] = n
	}
	return out, nil
}

func buildNotifier(s *Sink, logger zerolog.Logger) (alert.Notifier, error) {
	timeout := s.AttemptTimeout()
	switch s.Type {
	case SinkSlack:
		return slack.New(slack.Config{WebhookURL: s.WebhookURL.Value(), Token: s.Token.Value(), Channel: s.Channel,
			APIURL: s.APIURL, Timeout: timeout})
	case SinkPagerDuty:
		return pagerduty.New(pagerduty.Config{RoutingKey: s.RoutingKey.Value(), EventsURL: s.EventsURL, Timeout: timeout})
	case SinkAlertmanager:
		return alertmanager.New(alertmanager.Config{URLs: s.URLs, Timeout: timeout, GeneratorURL: s.GeneratorURL,
			Username: s.Username, Password: s.Password.Value(), ResolveTimeout: s.ResolveTimeout.Std(), Refresh: s.Refresh.Std()})
	case SinkLog:
		return logsink.New(logger.With().Str("sink_name", s.Name).Logger()), nil
	}
	return nil, fmt.Errorf("unknown sink type %q", s.Type)
}

// Check is what every listener's -check flag runs: it loads and validates
// the config at path and builds its sinks, returning an error that names
// the file and the bad field. A listener prints it and exits non-zero.
func Check(path string) error {
	cfg, err := Load(path)
	if err != nil {
		return err
	}
	if _, err := BuildNotifiers(cfg, zerolog.Nop()); err != nil {
		if path != "" {
			return fmt.Errorf("config %s: %w", path, err)
		}
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
