// Package alertmanager delivers superguard notifications to Prometheus
// Alertmanager through its API v2 (POST /api/v2/alerts).
//
// A trigger posts the alert with startsAt = the incident's first sighting
// and no endsAt (Alertmanager then resolves it after its resolve_timeout
// unless it is posted again), or endsAt = now + Config.ResolveTimeout when
// that is set. Alertmanager needs a firing alert re-posted: the Notifier
// reports RefreshInterval and the pipeline re-sends open triggers that often.
// A resolve posts endsAt = now.
//
// Labels (the alert's identity in Alertmanager): alertname ("Superguard" and
// the condition in CamelCase, e.g. SuperguardFatal), host and instance,
// group, program, condition, severity and dedup_key. Because severity is a
// label, an incident whose severity changes (an upgrade, quiet hours) would
// leave its old-severity alert firing; every post therefore also resolves
// the same alert at the other severities. Alertmanager sends nothing for a
// resolved alert it never saw firing. Annotations: summary, description (the
// details), action, runbook_url, log_tail, count, incident_id, listener,
// trace_id.
//
// Every post goes to every configured URL (the replicas of an HA cluster);
// it succeeds only when all of them accept it, and re-posting is idempotent.
// Notify makes one attempt per replica, bounded by ctx and Config.Timeout: a
// failure is permanent when any replica rejected the alert for good (4xx
// other than 408 and 429), else retryable (5xx, 408, 429, timeouts,
// connection errors). Errors name the failing URL and never carry the
// password.
package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/superguard/superguard/internal/httpurl"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/internal/sinkhttp"
)

// Defaults.
const (
	DefaultTimeout = 10 * time.Second // per attempt
	DefaultRefresh = time.Minute      // re-post interval of a firing alert
)

// Config configures the Alertmanager destination.
type Config struct {
	URLs           []string      // base URL of every replica, e.g. http://am1:9093 (no credentials in the URL)
	Timeout        time.Duration // per attempt; default DefaultTimeout
	HTTPClient     *http.Client  // optional; default a client with dial, TLS and header timeouts
	GeneratorURL   string        // optional link back to superguard (generatorURL)
	Username       string        // optional basic auth user
	Password       string        // optional basic auth password (a secret)
	ResolveTimeout time.Duration // when > 0, triggers carry endsAt = now + ResolveTimeout
	Refresh        time.Duration // re-post interval of firing alerts; default DefaultRefresh
}

// Validate reports the first invalid field. Its errors never contain the
// password.
func (c Config) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("alertmanager: at least one URL is required")
	}
	for i, raw := range c.URLs {
		u, ok := httpurl.Parse(raw)
		if !ok {
			return fmt.Errorf("alertmanager: urls[%d]: not an absolute http(s) URL", i)
		}
		if u.User != nil {
			return fmt.Errorf("alertmanager: urls[%d] %s: credentials in the URL are not allowed: set username and password", i, u.Redacted())
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("alertmanager: urls[%d] %s: want a base URL without query or fragment", i, raw)
		}
	}
	if c.GeneratorURL != "" {
		if u, err := url.Parse(c.GeneratorURL); err != nil || u.Scheme == "" {
			return fmt.Errorf("alertmanager: generator URL %q: not an absolute URL", c.GeneratorURL)
		}
	}
	refresh := c.Refresh
	if refresh == 0 {
		refresh = DefaultRefresh
	}
	switch {
	case c.Password != "" && c.Username == "":
		return errors.New("alertmanager: password set without a username")
	case c.Timeout < 0:
		return fmt.Errorf("alertmanager: timeout %s: must not be negative", c.Timeout)
	case c.Refresh < 0:
		return fmt.Errorf("alertmanager: refresh %s: must not be negative", c.Refresh)
	case c.ResolveTimeout < 0:
		return fmt.Errorf("alertmanager: resolve timeout %s: must not be negative", c.ResolveTimeout)
	case c.ResolveTimeout > 0 && c.ResolveTimeout < 2*refresh:
		return fmt.Errorf("alertmanager: resolve timeout %s: must be at least twice the refresh interval %s, or a firing alert resolves between re-posts",
			c.ResolveTimeout, refresh)
	}
	return nil
}

// Notifier delivers notifications to every replica of one Alertmanager
// cluster. It is safe for concurrent use.
type Notifier struct {
	endpoints      []string // .../api/v2/alerts of every replica
	client         *http.Client
	timeout        time.Duration
	generatorURL   string
	user, pass     string
	resolveTimeout time.Duration
	refresh        time.Duration
	now            func() time.Time
}

var _ alert.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{
		client:         cfg.HTTPClient,
		timeout:        cfg.Timeout,
		generatorURL:   cfg.GeneratorURL,
		user:           cfg.Username,
		pass:           cfg.Password,
		resolveTimeout: cfg.ResolveTimeout,
		refresh:        cfg.Refresh,
		now:            time.Now,
	}
	if n.timeout == 0 {
		n.timeout = DefaultTimeout
	}
	if n.refresh == 0 {
		n.refresh = DefaultRefresh
	}
	if n.client == nil {
		n.client = sinkhttp.NewClient(n.timeout)
	}
	for _, u := range cfg.URLs {
		n.endpoints = append(n.endpoints, strings.TrimRight(u, "/")+"/api/v2/alerts")
	}
	return n, nil
}

// RefreshInterval returns how often the pipeline must re-post the trigger
// of a still-firing incident so Alertmanager keeps it active.
func (a *Notifier) RefreshInterval() time.Duration { return a.refresh }

// Notify posts n to every replica at once: one attempt each, bounded by ctx
// and the configured timeout.
func (a *Notifier) Notify(ctx context.Context, n *alert.Notification) (alert.Receipt, error) {
	if n == nil {
		return alert.Receipt{}, alert.Permanent(errors.New("alertmanager: nil notification"))
	}
	body, err := a.body(n)
	if err != nil {
		return alert.Receipt{}, alert.Permanent(fmt.Errorf("alertmanager: %w", err))
	}
	return alert.Receipt{}, a.postAll(ctx, body)
}

// Post posts alerts built by the caller (crashpager's Watchdog) to every
// replica at once, as Notify does: one attempt each, bounded by ctx and
// the configured timeout; errors never carry the password.
func (a *Notifier) Post(ctx context.Context, alerts []PostableAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return alert.Permanent(fmt.Errorf("alertmanager: %w", err))
	}
	return a.postAll(ctx, body)
}

// postAll posts body to every replica at once and combines the results.
func (a *Notifier) postAll(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	errs := make([]error, len(a.endpoints))
	done := make(chan struct{})
	for i, ep := range a.endpoints {
		go func() {
			errs[i] = a.post(ctx, ep, body)
			done <- struct{}{}
		}()
	}
	for range a.endpoints {
		<-done
	}
	return a.combine(errs)
}
