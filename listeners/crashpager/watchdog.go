package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
)

// amTarget is one Alertmanager cluster (an alertmanager sink of the config).
type amTarget struct {
	Sink     string   // sink name, for logs
	URLs     []string // base URL of every replica
	Username string
	Password string // secret
	Timeout  time.Duration
}

// watchdog keeps an always-firing "Watchdog" alert alive in every
// Alertmanager cluster, the pattern of Prometheus' own Watchdog: an
// external receiver (a dead man's snitch behind an Alertmanager route with
// a short repeat_interval) pages when its notifications stop, which covers
// a dead host, a dead supervisord or a dead superguard. Each post carries
// endsAt = now + 3 intervals, so the alert resolves on its own soon after
// crashpager stops posting it. It runs in its own goroutine; failures are
// logged, never fatal. It bypasses the outbox on purpose: a Watchdog that
// was not delivered live has no value later.
type watchdog struct {
	targets  []amTarget
	host     string
	interval time.Duration
	client   *http.Client
	started  time.Time
	now      func() time.Time
	log      zerolog.Logger
}

// watchdogAlertName is the alertname label of the Watchdog alert.
const watchdogAlertName = "Watchdog"

func newWatchdog(targets []amTarget, host string, interval time.Duration, log zerolog.Logger) *watchdog {
	timeout := 10 * time.Second
	for _, t := range targets {
		if t.Timeout > 0 && t.Timeout < timeout {
			timeout = t.Timeout
		}
	}
	return &watchdog{
		targets:  targets,
		host:     host,
		interval: interval,
		client:   &http.Client{Timeout: timeout},
		started:  time.Now(),
		now:      time.Now,
		log:      log.With().Str("component", "watchdog").Logger(),
	}
}

// run posts at once, then every interval until ctx ends.
func (w *watchdog) run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	failing := map[string]int{}
	for {
		for _, tg := range w.targets {
			err := w.post(ctx, tg)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				failing[tg.Sink]++
				w.log.Warn().Err(err).Str("sink", tg.Sink).Int("consecutive_failures", failing[tg.Sink]).
					Msg("watchdog alert not posted")
			case failing[tg.Sink] > 0:
				w.log.Info().Str("sink", tg.Sink).Int("after_failures", failing[tg.Sink]).Msg("watchdog alert posted again")
				failing[tg.Sink] = 0
			default:
				w.log.Debug().Str("sink", tg.Sink).Msg("watchdog alert posted")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// postableAlert is Alertmanager API v2's postableAlert.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// payload is the body posted on each round.
func (w *watchdog) payload() ([]byte, error) {
	now := w.now()
	return json.Marshal([]postableAlert{{
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
		EndsAt:   now.Add(3 * w.interval).UTC().Format(time.RFC3339Nano),
	}})
}

// post sends the Watchdog to every replica of tg and returns the failures
// joined. Errors never carry the password.
func (w *watchdog) post(ctx context.Context, tg amTarget) error {
	body, err := w.payload()
	if err != nil {
		return fmt.Errorf("watchdog: encode: %w", err)
	}
	var errs []error
	for _, base := range tg.URLs {
		if err := w.postOne(ctx, tg, base, body); err != nil {
			errs = append(errs, alert.RedactError(err, tg.Password))
		}
	}
	return errors.Join(errs...)
}

func (w *watchdog) postOne(ctx context.Context, tg amTarget, base string, body []byte) error {
	endpoint := strings.TrimRight(base, "/") + "/api/v2/alerts"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", base, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tg.Username != "" {
		req.SetBasicAuth(tg.Username, tg.Password)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: %w", base, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: status %d: %s", base, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}
