package alertmanager

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/superguard/superguard/pkg/alert"
)

// maxLogTail caps the log_tail annotation (the newest bytes are kept).
const maxLogTail = 8 << 10

// PostableAlert is one element of the API v2 PostableAlerts body.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

var severities = []alert.Severity{alert.Info, alert.Warning, alert.Error, alert.Critical}

// body encodes the PostableAlerts for n: the alert itself, then the same
// alert resolved at every other severity.
func (a *Notifier) body(n *alert.Notification) ([]byte, error) {
	now := a.now().UTC()
	starts := n.FirstSeen
	if starts.IsZero() {
		starts = n.Time
	}
	if starts.IsZero() || starts.After(now) {
		starts = now
	}
	ends := now
	if n.Kind != alert.Resolve {
		ends = time.Time{}
		if a.resolveTimeout > 0 {
			ends = now.Add(a.resolveTimeout)
		}
	}
	annotations := Annotations(n)
	alerts := make([]PostableAlert, 0, len(severities))
	for _, sev := range append([]alert.Severity{n.Severity}, others(n.Severity)...) {
		pa := PostableAlert{
			Labels:       Labels(n, sev),
			Annotations:  annotations,
			StartsAt:     starts.UTC().Format(time.RFC3339Nano),
			GeneratorURL: a.generatorURL,
		}
		switch {
		case sev != n.Severity:
			pa.EndsAt = now.Format(time.RFC3339Nano)
		case !ends.IsZero():
			pa.EndsAt = ends.Format(time.RFC3339Nano)
		}
		alerts = append(alerts, pa)
	}
	return json.Marshal(alerts)
}

func others(s alert.Severity) []alert.Severity {
	var out []alert.Severity
	for _, o := range severities {
		if o != s {
			out = append(out, o)
		}
	}
	return out
}

// AlertName returns the alertname label for a condition: "Superguard" and
// the condition in CamelCase (SuperguardFatal, SuperguardExited).
func AlertName(c alert.Condition) string {
	var b strings.Builder
	b.WriteString("Superguard")
	up := true
	for _, r := range string(c) {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Labels returns the label set of n at severity sev; empty values are left
// out (Alertmanager treats an empty label as absent).
func Labels(n *alert.Notification, sev alert.Severity) map[string]string {
	l := map[string]string{
		"alertname": AlertName(n.Condition),
		"severity":  sev.String(),
	}
	set := func(k, v string) {
		if v != "" {
			l[k] = strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	set("dedup_key", n.Key)
	set("host", n.Host)
	set("instance", n.Host)
	set("group", n.Group)
	set("program", n.Program)
	set("condition", string(n.Condition))
	return l
}

// Annotations returns the annotations of n.
func Annotations(n *alert.Notification) map[string]string {
	an := map[string]string{"summary": n.Summary, "count": strconv.Itoa(max(n.Count, 1))}
	set := func(k, v string) {
		if v != "" {
			an[k] = strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	set("description", describe(n.Details))
	set("action", n.Action)
	set("runbook_url", n.Runbook)
	set("log_tail", keepEnd(n.LogTail, maxLogTail))
	set("incident_id", n.IncidentID)
	set("listener", n.Listener)
	set("trace_id", n.TraceID)
	if n.Flapping {
		an["flapping"] = "true"
	}
	an["summary"] = strings.ToValidUTF8(an["summary"], "\uFFFD")
	return an
}

// describe renders details as sorted "key: value" lines.
func describe(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + ": " + d[k]
	}
	return strings.Join(lines, "\n")
}

// keepEnd keeps the last max bytes of s (the newest log lines), starting on
// a rune boundary.
func keepEnd(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[len(s)-max:]
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return "…" + s
}
