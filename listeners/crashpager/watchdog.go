package main

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alertmanager"
)

// amSink is one Alertmanager cluster (an alertmanager sink of the config).
type amSink struct {
	name string
	n    *alertmanager.Notifier
}

// amSinks lists the Alertmanager sinks, for the Watchdog.
func amSinks(notifiers map[string]alert.Notifier) []amSink {
	var out []amSink
	for name, n := range notifiers {
		if am, ok := n.(*alertmanager.Notifier); ok {
			out = append(out, amSink{name: name, n: am})
		}
	}
	return out
}

// watchdog keeps an always-firing "Watchdog" alert alive in every
// Alertmanager cluster, the pattern of Prometheus' own Watchdog: an
// external receiver (a dead man's snitch behind an Alertmanager route with
// a short repeat_interval) pages when its notifications stop, which covers
// a dead host, a dead supervisord or a dead superguard — and, since it
// stops posting while alerts cannot be stored or delivered (see beacon), a
// guard that can no longer tell anyone anything. Each post carries endsAt
// = now + 3 intervals, so the alert resolves on its own soon after
// crashpager stops posting it. It bypasses the outbox on purpose: a
// Watchdog that was not delivered live has no value later.
type watchdog struct {
	sinks    []amSink
	host     string
	interval time.Duration
	started  time.Time
	now      func() time.Time
}

// watchdogAlertName is the alertname label of the Watchdog alert.
const watchdogAlertName = "Watchdog"

func newWatchdog(sinks []amSink, host string, interval time.Duration) *watchdog {
	return &watchdog{sinks: sinks, host: host, interval: interval, started: time.Now(), now: time.Now}
}

// alerts is what each round posts.
func (w *watchdog) alerts() []alertmanager.PostableAlert {
	return []alertmanager.PostableAlert{{
		Labels: map[string]string{
			"alertname": watchdogAlertName,
			"host":      w.host,
			"instance":  w.host,
			"listener":  listenerName,
			"severity":  "none",
		},
		Annotations: map[string]string{
			"summary": "superguard on " + w.host + " is alive: this alert always fires; page when it stops",
		},
		StartsAt: w.started.UTC().Format(time.RFC3339Nano),
		EndsAt:   w.now().Add(3 * w.interval).UTC().Format(time.RFC3339Nano),
	}}
}

// post sends the Watchdog to every replica of every cluster; the failures
// are joined, each naming its replica and never the password.
func (w *watchdog) post(ctx context.Context) error {
	alerts := w.alerts()
	var errs []error
	for _, s := range w.sinks {
		if err := s.n.Post(ctx, alerts); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// beacon sends a liveness signal (the Watchdog, the dead-man ping) at once
// and then every interval until ctx ends, but only while healthy says that
// alerts can be stored and delivered: while they cannot, it stays silent,
// so that the external monitor sees the host as unhealthy instead of being
// told "alive" by a guard that can page no one. Failures are logged, never
// fatal; state changes are logged once.
type beacon struct {
	name     string
	interval time.Duration
	send     func(context.Context) error
	healthy  func(context.Context) error // nil: always
	log      zerolog.Logger
}

func (b beacon) run(ctx context.Context) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	failures, silent := 0, false
	for {
		var err error
		if b.healthy != nil {
			err = b.healthy(ctx)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !silent:
			silent = true
			b.log.Error().Err(err).Msg(b.name + " withheld: alerts cannot be stored or delivered")
		case err != nil:
			b.log.Debug().Err(err).Msg(b.name + " still withheld")
		default:
			if silent {
				silent = false
				b.log.Info().Msg(b.name + " resumed: alerts can be delivered again")
			}
			err := b.send(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				failures++
				b.log.Warn().Err(err).Int("consecutive_failures", failures).Msg(b.name + " not sent")
			case failures > 0:
				b.log.Info().Int("after_failures", failures).Msg(b.name + " sent again")
				failures = 0
			default:
				b.log.Debug().Msg(b.name + " sent")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
