package notify

import (
	"errors"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
)

// Build constructs one Notifier per sink of cfg, keyed by sink name. Each
// sink's entry is decoded by its type and its secrets are resolved now
// (cfg.Redact then scrubs them). It does no network I/O. Log sinks write
// to logger. Errors name the sink by its path in the file
// ("sinks[1].token_env: variable SLACK_BOT_TOKEN is not set") and never
// carry a secret. With an error, the map still holds every sink that could
// be built: a listener keeps running on those, and the alerts routed to
// the others wait in the outbox.
func Build(cfg *config.Config, logger zerolog.Logger) (map[string]alert.Notifier, error) {
	out := make(map[string]alert.Notifier, len(cfg.Sinks))
	var errs []error
	for i := range cfg.Sinks {
		s := &cfg.Sinks[i]
		n, err := build(cfg, i, logger)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[s.Name] = n
	}
	return out, errors.Join(errs...)
}

// build builds sink i of cfg.
func build(cfg *config.Config, i int, logger zerolog.Logger) (alert.Notifier, error) {
	s := &cfg.Sinks[i]
	path := fmt.Sprintf("sinks[%d]", i)
	t, ok := Lookup(s.Type)
	if !ok {
		return nil, config.FieldErrorf(path+".type", "%q: want %s", s.Type, typeNames())
	}
	n, err := t.build(s, cfg.SinkEnv(s, logger))
	if err != nil {
		return nil, located(path, s.Name, cfg, err)
	}
	return n, nil
}

// located places the field errors of one sink at its path and prefixes the
// others (a constructor's) with the path and the sink's name, each with
// every resolved secret removed.
func located(path, name string, cfg *config.Config, err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		if _, ok := e.(*config.FieldError); ok {
			out[i] = config.Under(path, e)
			continue
		}
		out[i] = fmt.Errorf("%s (%s): %s", path, name, cfg.Redact(e.Error()))
	}
	return errors.Join(out...)
}

// Check is what every listener's -check flag runs: it loads the config at
// path and builds every sink without sending anything, so it also proves
// that every secret resolves. Deprecations are written to warn, one line
// each, and do not fail the check. The error names the file and the bad
// field; a listener prints it and exits non-zero.
func Check(path string, warn io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	name := "config"
	if path != "" {
		name = "config " + path
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(warn, "%s: warning: %s\n", name, w)
	}
	if _, err := Build(cfg, zerolog.Nop()); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
