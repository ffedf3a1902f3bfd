// Package alert is superguard's alert model: what every listener reports,
// how it is keyed for deduplication, and the one-method Notifier interface
// that each sink sub-package (slack, pagerduty, alertmanager, logsink)
// implements. Sinks only classify their errors (see DeliveryError); the
// outbox sender is the one stage that owns retries and backoff.
package alert

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/superguard/superguard/internal/enum"
	"github.com/superguard/superguard/internal/errtext"
)

// Severity orders how urgent an alert is. The zero value is Info.
type Severity int

// Severities, from least to most urgent.
const (
	Info Severity = iota
	Warning
	Error
	Critical
)

var severities = enum.Names[Severity]{Kind: "severity", Names: []string{"info", "warning", "error", "critical"}}

// String returns the lower-case name used in configs and payloads.
func (s Severity) String() string { return severities.String(s) }

// ParseSeverity parses "info", "warning", "error" or "critical".
func ParseSeverity(s string) (Severity, error) { return severities.Parse(s) }

// MarshalText implements encoding.TextMarshaler (JSON and YAML use it).
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error { return severities.Unmarshal(s, b) }

// Lower returns the severity one step down, except that Critical stays
// Critical and Info stays Info (quiet hours use it).
func (s Severity) Lower() Severity {
	if s == Critical || s == Info {
		return s
	}
	return s - 1
}

// Condition names what is wrong. The list is shared by every listener and is
// part of the dedup key, so values never change once shipped.
type Condition string

// Conditions reported by superguard listeners.
const (
	CondExited    Condition = "exited"    // unexpected exit of a program
	CondSpree     Condition = "spree"     // too many unexpected exits in a window
	CondFatal     Condition = "fatal"     // supervisord gave up (FATAL)
	CondHalt      Condition = "halt"      // the kill switch halted trading
	CondHealth    Condition = "health"    // /health probe failing
	CondStale     Condition = "stale"     // data feed stale
	CondHeartbeat Condition = "heartbeat" // heartbeat missed
	CondMemory    Condition = "memory"    // memory threshold crossed
	CondCPU       Condition = "cpu"       // CPU threshold crossed
	CondLeak      Condition = "leak"      // memory growing towards its limit
	CondFDs       Condition = "fds"       // open file descriptors near the process's limit
	CondDisk      Condition = "disk"      // free disk space low
	CondLoad      Condition = "load"      // host load average high
	CondBudget    Condition = "budget"    // restart budget spent
	CondListener  Condition = "listener"  // a superguard listener is dead or stuck
	CondTest      Condition = "test"      // a test alert an operator sent (test-alert)
	CondSchedule  Condition = "schedule"  // a trading-day phase failed, or a pre-open check kept trading from starting
	CondCalendar  Condition = "calendar"  // the exchange calendar's data ends soon, or the overlay disagrees with it
)

// Conditions lists every known Condition, in documentation order.
var Conditions = []Condition{CondExited, CondSpree, CondFatal, CondHalt, CondHealth,
	CondStale, CondHeartbeat, CondMemory, CondCPU, CondLeak, CondFDs, CondDisk, CondLoad, CondBudget, CondListener, CondTest,
	CondSchedule, CondCalendar}

// Valid reports whether c is one of Conditions.
func (c Condition) Valid() bool {
	for _, k := range Conditions {
		if c == k {
			return true
		}
	}
	return false
}

// DetailHaltReason is the detail a halt report carries. An incident that
// holds it stays open until a halt resolve (haltguard resume) closes it: the
// program whose FATAL triggered the halt shares the halt's incident, and its
// recovery does not end the halt.
const DetailHaltReason = "halt_reason"

// Kind says whether a notification opens (or repeats) an incident or closes it.
type Kind string

// Notification kinds.
const (
	Trigger Kind = "trigger"
	Resolve Kind = "resolve"
)

// Key returns the stable dedup key host/process/condition, where process is
// "group:name" (supervisord's own naming; an ungrouped program is
// "name:name"). An empty process (a host-wide alert such as a manual halt)
// is written "-".
func Key(host, process string, c Condition) string {
	if process == "" {
		process = "-"
	}
	return host + "/" + process + "/" + string(c)
}

// Alert is one report from a listener. Every trigger has a resolve
// counterpart with the same Key.
type Alert struct {
	Key       string            `json:"key"`                // dedup key, see Key
	Kind      Kind              `json:"kind"`               // trigger or resolve
	Host      string            `json:"host"`               // host name
	Group     string            `json:"group,omitempty"`    // supervisord group
	Program   string            `json:"program,omitempty"`  // supervisord program name
	Condition Condition         `json:"condition"`          // what is wrong
	Severity  Severity          `json:"severity"`           // how urgent
	Summary   string            `json:"summary"`            // one line for humans
	Details   map[string]string `json:"details,omitempty"`  // exit status, uptime, from/to state, pid, ...
	Action    string            `json:"action,omitempty"`   // what the listener did about it
	Runbook   string            `json:"runbook,omitempty"`  // link for the operator
	LogTail   string            `json:"log_tail,omitempty"` // tail of the process's stderr log
	Listener  string            `json:"listener"`           // which superguard listener reported it
	TraceID   string            `json:"trace_id,omitempty"` // shared by every line of one incident
	Time      time.Time         `json:"time"`               // when the condition was observed
	// SourceID identifies what produced the alert (for an event: supervisord
	// instance, pool and serial). The pipeline ignores a second alert with the
	// same SourceID and Key, so an event supervisord re-sends adds nothing.
	SourceID string `json:"source_id,omitempty"`
}

// Safety reports whether a is about the guard's own safety actions or
// health: a halt or a resume (CondHalt), a spent restart budget
// (CondBudget), a superguard listener down (CondListener). Their
// notifications are never held by dedup or flap damping, never cancelled
// by an early resolve, and go before lower severities on a sink.
func (a *Alert) Safety() bool {
	return a.Condition == CondHalt || a.Condition == CondBudget || a.Condition == CondListener
}

// Urgent reports whether a must reach its sinks as soon as possible and
// never be cancelled unsent: a safety alert, or a critical one.
func (a *Alert) Urgent() bool { return a.Safety() || a.Severity == Critical }

// Process returns "group:program" (or "" when neither is set).
func (a *Alert) Process() string {
	switch {
	case a.Group == "" && a.Program == "":
		return ""
	case a.Group == "":
		return a.Program + ":" + a.Program
	}
	return a.Group + ":" + a.Program
}

// Validate reports the first missing or invalid field.
func (a *Alert) Validate() error {
	switch {
	case a.Key == "":
		return errors.New("alert: empty key")
	case a.Kind != Trigger && a.Kind != Resolve:
		return fmt.Errorf("alert %s: kind %q: want trigger or resolve", a.Key, a.Kind)
	case !a.Condition.Valid():
		return fmt.Errorf("alert %s: unknown condition %q", a.Key, a.Condition)
	case a.Severity < Info || a.Severity > Critical:
		return fmt.Errorf("alert %s: bad severity %d", a.Key, int(a.Severity))
	case a.Summary == "":
		return fmt.Errorf("alert %s: empty summary", a.Key)
	}
	return nil
}

// Notification is what a sink delivers: an alert as the router and the
// aggregation window shaped it.
type Notification struct {
	Alert
	IncidentID string    `json:"incident_id"`        // unique per incident; a re-fire after resolve is a new one
	Count      int       `json:"count"`              // occurrences absorbed: 0 on an update that only adds an action; reminders and resolves carry the total
	FirstSeen  time.Time `json:"first_seen"`         // when the incident opened
	Reminder   bool      `json:"reminder,omitempty"` // a repeat while still firing
	Flapping   bool      `json:"flapping,omitempty"` // the key is flapping between trigger and resolve
	Ref        string    `json:"ref,omitempty"`      // sink reference from the trigger's Receipt (e.g. Slack channel+ts), set on later sends
}

// Receipt is what a sink returns on success: an optional reference the
// outbox keeps for later notifications of the same incident (Slack's
// channel and message ts, so a resolve can update or thread).
type Receipt struct {
	Ref string
}

// Notifier delivers one notification to one destination. Implementations
// set their own per-attempt deadline from ctx, never retry, and classify
// failures with DeliveryError.
type Notifier interface {
	Notify(ctx context.Context, n *Notification) (Receipt, error)
}

// DeliveryError classifies a failed delivery for the outbox sender.
type DeliveryError struct {
	Retryable  bool          // a later attempt may succeed (5xx, 408, 429, timeouts, connection errors)
	RetryAfter time.Duration // minimum wait the service asked for (0 when it said nothing)
	Err        error         // the cause, already free of secrets
}

// Error implements error.
func (e *DeliveryError) Error() string {
	kind := "permanent"
	if e.Retryable {
		kind = "retryable"
	}
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s): %v", kind, e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("%s: %v", kind, e.Err)
}

// Unwrap returns the cause.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Retry wraps err as a retryable failure with an optional minimum wait.
func Retry(err error, after time.Duration) error {
	return &DeliveryError{Retryable: true, RetryAfter: after, Err: err}
}

// Permanent wraps err as a failure no retry can fix (bad request, bad key):
// the outbox dead-letters it.
func Permanent(err error) error {
	return &DeliveryError{Err: err}
}

// IsRetryable reports whether err (or a DeliveryError it wraps) may succeed
// on a later attempt, and the minimum wait the service asked for. An
// unclassified error counts as retryable: losing an alert is worse than
// sending it twice.
func IsRetryable(err error) (bool, time.Duration) {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Retryable, de.RetryAfter
	}
	return err != nil, 0
}

// Redact replaces every non-empty secret in s with "[REDACTED]". Sinks pass
// their secrets (webhook URL, its path, tokens, routing keys) so that no
// error or log line ever carries one.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// RedactError returns err with every secret removed from its text, or nil.
// It keeps err's chain, so errors.Is and errors.As still work on the
// result, the way Alertmanager's RedactURL does: a *url.Error in the chain
// has the secrets cut from its URL in place (a caller that prints it after
// errors.As sees no secret), and the result's own text is redacted. An
// error that carried no secret is returned as it is.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = Redact(ue.URL, secrets...)
	}
	msg := Redact(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return errtext.Replace(err, msg)
}

// Submitter commits an alert durably (the alert pipeline's Submit): local
// and fast, it must not touch the network, so a listener may call it
// before it acknowledges the event that raised the alert.
type Submitter interface {
	Submit(ctx context.Context, a *Alert) error
}
