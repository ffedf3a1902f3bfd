// Package pagerduty delivers superguard notifications to PagerDuty through
// the Events API v2, using github.com/PagerDuty/go-pagerduty.
//
// A trigger (including a reminder or an update of an open incident) is a
// "trigger" event and a resolve a "resolve" event, both with the alert's
// dedup key (hashed when longer than PagerDuty's 255 characters), so
// PagerDuty folds every notification of one incident into one PagerDuty
// incident, and a re-fire after a resolve opens a new one.
//
// Notify makes exactly one attempt, bounded by ctx and Config.Timeout, and
// classifies failures: 429 is retryable after at least 30 s (PagerDuty
// counts about 120 events a minute per key), 408, 5xx, timeouts and
// connection errors are retryable, other 4xx (400 invalid event) permanent.
// No error carries the routing key.
package pagerduty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/superguard/superguard/internal/httpurl"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/internal/sinkhttp"
)

// DefaultEventsURL is the Events API v2 base URL.
const DefaultEventsURL = "https://events.pagerduty.com"

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultClientName names superguard as the monitoring client in PagerDuty.
const DefaultClientName = "superguard"

// MinRateLimitWait is the least wait reported for a 429: PagerDuty's
// limits reset once a minute and it advises waiting 30 s or more.
const MinRateLimitWait = 30 * time.Second

// Events API v2 limits.
const (
	maxDedupKey = 255
	maxSummary  = 1024
	maxSource   = 255
	maxLogTail  = 16 << 10 // our cap on the log tail in custom_details; events may be 512 KB
	maxDetail   = 4 << 10  // our cap on each detail value
)

var routingKeyPattern = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// Config configures the PagerDuty destination.
type Config struct {
	RoutingKey string        // integration (routing) key, 32 characters (a secret)
	EventsURL  string        // Events API base; default DefaultEventsURL (tests point it at a fake)
	Timeout    time.Duration // per attempt; default DefaultTimeout
	HTTPClient *http.Client  // optional; default a client with dial, TLS and header timeouts
	ClientName string        // the event's "client"; default DefaultClientName
}

// Validate reports the first invalid field. Its errors never contain the
// routing key.
func (c Config) Validate() error {
	switch {
	case c.RoutingKey == "":
		return errors.New("pagerduty: routing key is required")
	case !routingKeyPattern.MatchString(c.RoutingKey):
		return fmt.Errorf("pagerduty: routing key: %d characters: want 32 letters or digits", len(c.RoutingKey))
	case c.Timeout < 0:
		return fmt.Errorf("pagerduty: timeout %s: must not be negative", c.Timeout)
	}
	if c.EventsURL != "" && !httpurl.Valid(c.EventsURL) {
		return fmt.Errorf("pagerduty: events URL %q: not an absolute http(s) URL", c.EventsURL)
	}
	return nil
}

// Notifier delivers notifications to one PagerDuty service. It is safe for
// concurrent use.
type Notifier struct {
	key     string
	client  *pagerduty.Client
	name    string
	timeout time.Duration
}

var _ alert.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{key: cfg.RoutingKey, name: cfg.ClientName, timeout: cfg.Timeout}
	if n.timeout == 0 {
		n.timeout = DefaultTimeout
	}
	if n.name == "" {
		n.name = DefaultClientName
	}
	base := strings.TrimRight(cfg.EventsURL, "/")
	if base == "" {
		base = DefaultEventsURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = sinkhttp.NewClient(n.timeout)
	}
	// The Events API needs no REST token; the routing key travels in the body.
	n.client = pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(base))
	n.client.HTTPClient = recordingClient{hc}
	return n, nil
}

// Notify sends n as one Events API v2 event: one attempt, bounded by ctx and
// the configured timeout.
func (p *Notifier) Notify(ctx context.Context, n *alert.Notification) (alert.Receipt, error) {
	if n == nil {
		return alert.Receipt{}, alert.Permanent(errors.New("pagerduty: nil notification"))
	}
	ev := p.event(n)
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	rec := &attempt{}
	_, err := p.client.ManageEventWithContext(withAttempt(ctx, rec), ev)
	return alert.Receipt{}, p.classify(ev.Action, rec, err)
}

// DedupKey returns the dedup_key sent for an alert key: the key itself when
// it fits PagerDuty's 255 characters, else a readable prefix and a SHA-256
// of the whole key, so the result is stable and unique.
func DedupKey(key string) string {
	if utf8.RuneCountInString(key) <= maxDedupKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	suffix := "~sha256:" + hex.EncodeToString(sum[:])
	return truncate(key, maxDedupKey-len(suffix), "") + suffix
}

// Severity maps superguard's severity to PagerDuty's.
func Severity(s alert.Severity) string {
	switch s {
	case alert.Critical:
		return "critical"
	case alert.Error:
		return "error"
	case alert.Warning:
		return "warning"
	}
	return "info"
}

// event builds the Events API v2 event for n.
func (p *Notifier) event(n *alert.Notification) *pagerduty.V2Event {
	ev := &pagerduty.V2Event{RoutingKey: p.key, DedupKey: DedupKey(n.Key), Client: p.name}
	if n.Kind == alert.Resolve {
		ev.Action = "resolve"
		return ev
	}
	ev.Action = "trigger"
	ts := n.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	source := n.Host
	if source == "" {
		source = "superguard"
	}
	ev.Payload = &pagerduty.V2Payload{
		Summary:   truncate(oneLine(n.Summary), maxSummary, "…"),
		Source:    truncate(source, maxSource, ""),
		Severity:  Severity(n.Severity),
		Timestamp: ts.UTC().Format(time.RFC3339Nano),
		Component: n.Process(),
		Group:     n.Group,
		Class:     string(n.Condition),
		Details:   customDetails(n),
	}
	if n.Runbook != "" {
		ev.Links = []any{map[string]string{"href": n.Runbook, "text": "Runbook"}}
	}
	return ev
}

func customDetails(n *alert.Notification) map[string]any {
	d := map[string]any{
		"key":         n.Key,
		"incident_id": n.IncidentID,
		"count":       max(n.Count, 1),
		"listener":    n.Listener,
	}
	if len(n.Details) > 0 {
		dd := make(map[string]string, len(n.Details))
		for k, v := range n.Details {
			dd[k] = truncate(v, maxDetail, "…")
		}
		d["details"] = dd
	}
	optional := map[string]string{"action": n.Action, "runbook": n.Runbook, "trace_id": n.TraceID}
	for k, v := range optional {
		if v != "" {
			d[k] = v
		}
	}
	if n.LogTail != "" {
		d["log_tail"] = keepEnd(n.LogTail, maxLogTail)
	}
	if !n.FirstSeen.IsZero() {
		d["first_seen"] = n.FirstSeen.UTC().Format(time.RFC3339)
	}
	if n.Reminder {
		d["reminder"] = true
	}
	if n.Flapping {
		d["flapping"] = true
	}
	return d
}

// truncate cuts s to at most max characters, the suffix included.
func truncate(s string, max int, suffix string) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	room := max - utf8.RuneCountInString(suffix)
	i := 0
	for n := 0; n < room; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + suffix
}

// keepEnd keeps the last max bytes of a log tail (the newest lines), from a
// line start when one is near.
func keepEnd(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[len(s)-max:]
	for i := 0; i < len(s) && i < utf8.UTFMax; i++ {
		if utf8.RuneStart(s[i]) {
			s = s[i:]
			break
		}
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < 200 {
		s = s[i+1:]
	}
	return "…" + s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
