package alerttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// AMAlert is one alert of an accepted Alertmanager API v2 post.
type AMAlert struct {
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time // zero when omitted
	EndsAt       time.Time // zero when omitted
	GeneratorURL string
	Received     time.Time // when the fake accepted it
}

// Fingerprint identifies the alert by its label set, as Alertmanager does.
func (a AMAlert) Fingerprint() string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, a.Labels[k])
	}
	return b.String()
}

// Firing reports whether the alert is firing at t: it has no end or ends
// after t.
func (a AMAlert) Firing(t time.Time) bool { return a.EndsAt.IsZero() || a.EndsAt.After(t) }

// postableAlert mirrors the API v2 postableAlert schema.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     *string           `json:"startsAt,omitempty"`
	EndsAt       *string           `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

var labelNamePattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Alertmanager is a fake Alertmanager API v2 for unit tests (integration
// tests use the real prometheus-alertmanager).
type Alertmanager struct {
	*Server

	mu     sync.Mutex
	user   string
	pass   string
	alerts []AMAlert
	posts  int
}

// NewAlertmanager starts a fake Alertmanager serving POST /api/v2/alerts. It
// validates the postableAlerts schema the way Alertmanager 0.25 does: a JSON
// array of alerts, each with a non-empty labels map of valid label names
// ([a-zA-Z_][a-zA-Z0-9_]*) to UTF-8 strings, annotations likewise, startsAt
// and endsAt RFC 3339 when present with endsAt not before startsAt, and a
// generatorURL that parses as a URL. It also rejects fields the schema does
// not have (Alertmanager ignores them, which hides typos). It answers 200
// with an empty body, or 400 with a JSON string naming the problem.
func NewAlertmanager(tb testing.TB) *Alertmanager {
	tb.Helper()
	a := &Alertmanager{}
	a.Server = newServer(tb, "alertmanager", a)
	return a
}

// URL returns the Alertmanager base URL, for alertmanager's Config.URLs.
func (a *Alertmanager) URL() string { return a.BaseURL() }

// RequireBasicAuth makes the fake answer 401 to requests without these
// credentials, as an Alertmanager behind basic auth does.
func (a *Alertmanager) RequireBasicAuth(user, pass string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.user, a.pass = user, pass
}

// Alerts returns every accepted alert, oldest first.
func (a *Alertmanager) Alerts() []AMAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AMAlert(nil), a.alerts...)
}

// Posts returns how many posts were accepted.
func (a *Alertmanager) Posts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.posts
}

// Latest returns the latest version of each alert (by label set) whose label
// name has value, oldest first.
func (a *Alertmanager) Latest(name, value string) []AMAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	idx := make(map[string]int)
	var out []AMAlert
	for _, al := range a.alerts {
		if al.Labels[name] != value {
			continue
		}
		fp := al.Fingerprint()
		if i, ok := idx[fp]; ok {
			out[i] = al
			continue
		}
		idx[fp] = len(out)
		out = append(out, al)
	}
	return out
}

// Reset forgets the recorded alerts and posts.
func (a *Alertmanager) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alerts = nil
	a.posts = 0
}

type amPost struct{ alerts []AMAlert }

func (a *Alertmanager) check(r *http.Request, body []byte) (any, *invalid) {
	switch {
	case r.URL.Path != "/api/v2/alerts":
		return nil, &invalid{code: "not found", status: http.StatusNotFound, problems: []string{"path " + r.URL.Path + ": want /api/v2/alerts"}}
	case r.Method != http.MethodPost:
		return nil, &invalid{code: "method not allowed", status: http.StatusMethodNotAllowed, problems: []string{"method " + r.Method + ": want POST"}}
	case mediaType(r) != "application/json":
		return nil, &invalid{code: "unsupported media type", status: http.StatusUnsupportedMediaType,
			problems: []string{fmt.Sprintf("Content-Type %q: want application/json", r.Header.Get("Content-Type"))}}
	}
	a.mu.Lock()
	user, pass := a.user, a.pass
	a.mu.Unlock()
	if user != "" || pass != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			return nil, &invalid{code: "unauthorized", status: http.StatusUnauthorized, problems: []string{"missing or wrong basic auth credentials"}}
		}
	}
	var posted []postableAlert
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&posted); err != nil {
		return nil, amInvalid("body is not a postableAlerts array: " + err.Error())
	}
	var probs []string
	out := make([]AMAlert, 0, len(posted))
	for i, p := range posted {
		al, ps := checkAMAlert(fmt.Sprintf("alerts[%d]", i), p)
		probs = append(probs, ps...)
		out = append(out, al)
	}
	if len(probs) > 0 {
		return nil, amInvalid(probs...)
	}
	return amPost{alerts: out}, nil
}

func checkAMAlert(at string, p postableAlert) (AMAlert, []string) {
	al := AMAlert{Labels: p.Labels, Annotations: p.Annotations, GeneratorURL: p.GeneratorURL}
	var probs []string
	if len(p.Labels) == 0 {
		probs = append(probs, at+".labels: at least one label pair required")
	}
	probs = append(probs, checkLabelSet(at+".labels", p.Labels)...)
	probs = append(probs, checkLabelSet(at+".annotations", p.Annotations)...)
	var err error
	if p.StartsAt != nil {
		if al.StartsAt, err = time.Parse(time.RFC3339Nano, *p.StartsAt); err != nil {
			probs = append(probs, fmt.Sprintf("%s.startsAt: %q is not an RFC 3339 time", at, *p.StartsAt))
		}
	}
	if p.EndsAt != nil {
		if al.EndsAt, err = time.Parse(time.RFC3339Nano, *p.EndsAt); err != nil {
			probs = append(probs, fmt.Sprintf("%s.endsAt: %q is not an RFC 3339 time", at, *p.EndsAt))
		}
	}
	if !al.StartsAt.IsZero() && !al.EndsAt.IsZero() && al.EndsAt.Before(al.StartsAt) {
		probs = append(probs, at+": start time must be before end time")
	}
	if p.GeneratorURL != "" {
		if u, err := url.Parse(p.GeneratorURL); err != nil || u.Scheme == "" {
			probs = append(probs, fmt.Sprintf("%s.generatorURL: %q is not an absolute URL", at, p.GeneratorURL))
		}
	}
	return al, probs
}

func checkLabelSet(at string, m map[string]string) []string {
	var probs []string
	for k, v := range m {
		if !labelNamePattern.MatchString(k) {
			probs = append(probs, fmt.Sprintf("%s: invalid name %q", at, k))
		}
		if !utf8.ValidString(v) {
			probs = append(probs, fmt.Sprintf("%s: value of %q is not valid UTF-8", at, k))
		}
	}
	sort.Strings(probs)
	return probs
}

func amInvalid(probs ...string) *invalid {
	return &invalid{code: "invalid alerts", status: http.StatusBadRequest, problems: probs}
}

func (a *Alertmanager) accept(w http.ResponseWriter, _ *http.Request, req any) {
	now := time.Now()
	a.mu.Lock()
	for _, al := range req.(amPost).alerts {
		al.Received = now
		a.alerts = append(a.alerts, al)
	}
	a.posts++
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (a *Alertmanager) reject(w http.ResponseWriter, _ *http.Request, bad *invalid) {
	if bad.status != http.StatusBadRequest {
		writeText(w, bad.status, bad.code)
		return
	}
	writeJSON(w, bad.status, strings.Join(bad.problems, "; "))
}

func (a *Alertmanager) fail(w http.ResponseWriter, f Fault) {
	if f.Status >= 500 || f.Status == http.StatusTooManyRequests {
		writeText(w, f.Status, http.StatusText(f.Status))
		return
	}
	writeJSON(w, statusOr(f.Status, http.StatusBadRequest), "scripted failure: "+http.StatusText(f.Status))
}
