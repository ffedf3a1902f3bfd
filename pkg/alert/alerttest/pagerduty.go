package alerttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

// PagerDuty Events API v2 limits.
const (
	pdMaxDedupKey = 255
	pdMaxSummary  = 1024
	pdMaxSource   = 255
	pdMaxBody     = 512 << 10 // maximum event size
)

// PagerDutyEvent is one accepted Events API v2 event.
type PagerDutyEvent struct {
	RoutingKey string            `json:"routing_key"`
	Action     string            `json:"event_action"`
	DedupKey   string            `json:"dedup_key,omitempty"`
	Payload    *PagerDutyPayload `json:"payload,omitempty"`
	Links      []PagerDutyLink   `json:"links,omitempty"`
	Images     []PagerDutyImage  `json:"images,omitempty"`
	Client     string            `json:"client,omitempty"`
	ClientURL  string            `json:"client_url,omitempty"`
}

// PagerDutyPayload is the payload of a trigger event.
type PagerDutyPayload struct {
	Summary       string `json:"summary"`
	Source        string `json:"source"`
	Severity      string `json:"severity"`
	Timestamp     string `json:"timestamp,omitempty"`
	Component     string `json:"component,omitempty"`
	Group         string `json:"group,omitempty"`
	Class         string `json:"class,omitempty"`
	CustomDetails any    `json:"custom_details,omitempty"`
}

// Details returns custom_details as an object, or nil when it is absent or
// not an object.
func (p *PagerDutyPayload) Details() map[string]any {
	if p == nil {
		return nil
	}
	m, _ := p.CustomDetails.(map[string]any)
	return m
}

// PagerDutyLink is a link attached to an event.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// PagerDutyImage is an image attached to an event.
type PagerDutyImage struct {
	Src  string `json:"src"`
	Href string `json:"href,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

var routingKeyPattern = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// PagerDuty is a fake PagerDuty Events API v2 (POST /v2/enqueue).
type PagerDuty struct {
	*Server

	mu     sync.Mutex
	seq    int
	events []PagerDutyEvent
}

// NewPagerDuty starts a fake Events API v2. It accepts POST /v2/enqueue with
// Content-Type application/json and a valid event (32-character routing_key;
// event_action trigger, acknowledge or resolve; dedup_key of at most 255
// characters, required unless triggering; for a trigger a payload with a
// summary of at most 1024 characters, a source, a severity of critical,
// error, warning or info and an RFC 3339 timestamp when present; at most
// 512 KB) and answers 202 {"status":"success","message":"Event processed",
// "dedup_key":...}. An invalid event gets 400 {"status":"invalid event",...}.
func NewPagerDuty(tb testing.TB) *PagerDuty {
	tb.Helper()
	p := &PagerDuty{}
	p.Server = newServer(tb, "pagerduty", p)
	return p
}

// URL returns the Events API base URL, for pagerduty's Config.EventsURL.
func (p *PagerDuty) URL() string { return p.BaseURL() }

// Events returns the accepted events, oldest first.
func (p *PagerDuty) Events() []PagerDutyEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PagerDutyEvent(nil), p.events...)
}

// Triggers returns how many trigger events were accepted for dedupKey.
func (p *PagerDuty) Triggers(dedupKey string) int { return p.count("trigger", dedupKey) }

// Resolves returns how many resolve events were accepted for dedupKey.
func (p *PagerDuty) Resolves(dedupKey string) int { return p.count("resolve", dedupKey) }

func (p *PagerDuty) count(action, dedupKey string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.events {
		if e.Action == action && e.DedupKey == dedupKey {
			n++
		}
	}
	return n
}

// Last returns the latest accepted event for dedupKey.
func (p *PagerDuty) Last(dedupKey string) (PagerDutyEvent, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.events) - 1; i >= 0; i-- {
		if p.events[i].DedupKey == dedupKey {
			return p.events[i], true
		}
	}
	return PagerDutyEvent{}, false
}

// Reset forgets the recorded events.
func (p *PagerDuty) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = nil
}

func (p *PagerDuty) check(r *http.Request, body []byte) (any, *invalid) {
	switch {
	case r.URL.Path != "/v2/enqueue":
		return nil, &invalid{code: "not found", status: http.StatusNotFound, problems: []string{"path " + r.URL.Path + ": want /v2/enqueue"}}
	case r.Method != http.MethodPost:
		return nil, &invalid{code: "method not allowed", status: http.StatusMethodNotAllowed, problems: []string{"method " + r.Method + ": want POST"}}
	case mediaType(r) != "application/json":
		return nil, pdInvalid(fmt.Sprintf("Content-Type %q: want application/json", r.Header.Get("Content-Type")))
	case len(body) > pdMaxBody:
		return nil, pdInvalid(fmt.Sprintf("event is %d bytes, at most %d allowed", len(body), pdMaxBody))
	}
	var e PagerDutyEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, pdInvalid("body is not a valid event object: " + err.Error())
	}
	var probs []string
	if !routingKeyPattern.MatchString(e.RoutingKey) {
		probs = append(probs, fmt.Sprintf("routing_key: %d characters: want 32 letters or digits", len(e.RoutingKey)))
	}
	switch e.Action {
	case "trigger":
		probs = append(probs, checkPDPayload(e.Payload)...)
	case "acknowledge", "resolve":
		if e.DedupKey == "" {
			probs = append(probs, "dedup_key: required for "+e.Action)
		}
	default:
		probs = append(probs, fmt.Sprintf("event_action: %q: want trigger, acknowledge or resolve", e.Action))
	}
	if runes(e.DedupKey) > pdMaxDedupKey {
		probs = append(probs, fmt.Sprintf("dedup_key: %d characters, at most %d allowed", runes(e.DedupKey), pdMaxDedupKey))
	}
	for i, l := range e.Links {
		if l.Href == "" {
			probs = append(probs, fmt.Sprintf("links[%d].href: required", i))
		}
	}
	for i, im := range e.Images {
		if im.Src == "" {
			probs = append(probs, fmt.Sprintf("images[%d].src: required", i))
		}
	}
	if len(probs) > 0 {
		return nil, pdInvalid(probs...)
	}
	return e, nil
}

func checkPDPayload(pl *PagerDutyPayload) []string {
	if pl == nil {
		return []string{"payload: required for trigger"}
	}
	var probs []string
	if pl.Summary == "" || runes(pl.Summary) > pdMaxSummary {
		probs = append(probs, fmt.Sprintf("payload.summary: %d characters: want 1..%d", runes(pl.Summary), pdMaxSummary))
	}
	if pl.Source == "" || runes(pl.Source) > pdMaxSource {
		probs = append(probs, fmt.Sprintf("payload.source: %d characters: want 1..%d", runes(pl.Source), pdMaxSource))
	}
	switch pl.Severity {
	case "critical", "error", "warning", "info":
	default:
		probs = append(probs, fmt.Sprintf("payload.severity: %q: want critical, error, warning or info", pl.Severity))
	}
	if pl.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339Nano, pl.Timestamp); err != nil {
			probs = append(probs, fmt.Sprintf("payload.timestamp: %q is not an RFC 3339 time", pl.Timestamp))
		}
	}
	return probs
}

func pdInvalid(probs ...string) *invalid {
	return &invalid{code: "invalid event", status: http.StatusBadRequest, problems: probs}
}

func (p *PagerDuty) accept(w http.ResponseWriter, _ *http.Request, req any) {
	e := req.(PagerDutyEvent)
	p.mu.Lock()
	if e.DedupKey == "" {
		// PagerDuty generates a key for a trigger without one.
		p.seq++
		e.DedupKey = fmt.Sprintf("generated-%d-%s", p.seq, alert.RandomHex(8))
	}
	p.events = append(p.events, e)
	p.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": e.DedupKey})
}

func (p *PagerDuty) reject(w http.ResponseWriter, _ *http.Request, bad *invalid) {
	if bad.status != http.StatusBadRequest {
		writeText(w, bad.status, bad.code)
		return
	}
	writeJSON(w, bad.status, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": bad.problems})
}

func (p *PagerDuty) fail(w http.ResponseWriter, f Fault) {
	switch {
	case f.Status == http.StatusTooManyRequests:
		writeJSON(w, f.Status, map[string]any{"status": "throttle event", "message": "Requests for this service are arriving too quickly. Please retry later."})
	case f.Status == http.StatusBadRequest:
		writeJSON(w, f.Status, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{"scripted failure"}})
	case f.Status >= 500:
		writeText(w, f.Status, http.StatusText(f.Status))
	default:
		writeJSON(w, statusOr(f.Status, http.StatusBadRequest), map[string]any{"status": "unrecognized", "message": http.StatusText(f.Status)})
	}
}
