// Package logsink delivers superguard notifications as JSON log lines
// through zerolog (on stderr in the listeners). It is the sink used when no
// other is configured, and the last resort that always works.
//
// A trigger is logged at a level matching its severity (critical and error
// at error, warning at warn, info at info); a resolve at info. Every line has
// the message "alert" and the notification's fields.
package logsink

import (
	"context"
	"errors"
	"sort"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
)

// maxLogTail caps the log_tail field (the newest bytes are kept) so one line
// stays readable.
const maxLogTail = 4 << 10

// Notifier writes one log line per notification. It is safe for concurrent
// use (zerolog writes each line with a single Write).
type Notifier struct {
	log zerolog.Logger
}

var _ alert.Notifier = (*Notifier)(nil)

// New returns a Notifier writing to log.
func New(log zerolog.Logger) *Notifier {
	return &Notifier{log: log.With().Str("sink", "log").Logger()}
}

// Level returns the log level of a notification.
func Level(n *alert.Notification) zerolog.Level {
	if n.Kind == alert.Resolve {
		return zerolog.InfoLevel
	}
	switch n.Severity {
	case alert.Critical, alert.Error:
		return zerolog.ErrorLevel
	case alert.Warning:
		return zerolog.WarnLevel
	}
	return zerolog.InfoLevel
}

// Notify logs n. It never fails: a log line cannot be retried into
// existence, and the pipeline must not dead-letter the fallback sink. Only a
// nil notification, a caller bug, is refused.
func (l *Notifier) Notify(_ context.Context, n *alert.Notification) (alert.Receipt, error) {
	if n == nil {
		return alert.Receipt{}, alert.Permanent(errors.New("logsink: nil notification"))
	}
	ev := l.log.WithLevel(Level(n)).
		Str("kind", string(n.Kind)).
		Str("key", n.Key).
		Str("incident_id", n.IncidentID).
		Str("host", n.Host).
		Str("condition", string(n.Condition)).
		Str("severity", n.Severity.String()).
		Str("summary", n.Summary).
		Int("count", max(n.Count, 1))
	opt := func(k, v string) {
		if v != "" {
			ev = ev.Str(k, v)
		}
	}
	opt("group", n.Group)
	opt("program", n.Program)
	opt("action", n.Action)
	opt("runbook", n.Runbook)
	opt("reported_by", n.Listener)
	opt("trace_id", n.TraceID)
	opt("ref", n.Ref)
	opt("log_tail", keepEnd(n.LogTail, maxLogTail))
	if len(n.Details) > 0 {
		d := zerolog.Dict()
		keys := make([]string, 0, len(n.Details))
		for k := range n.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d = d.Str(k, n.Details[k])
		}
		ev = ev.Dict("details", d)
	}
	if !n.Time.IsZero() {
		ev = ev.Time("observed", n.Time)
	}
	if !n.FirstSeen.IsZero() {
		ev = ev.Time("first_seen", n.FirstSeen)
	}
	if n.Reminder {
		ev = ev.Bool("reminder", true)
	}
	if n.Flapping {
		ev = ev.Bool("flapping", true)
	}
	ev.Msg("alert")
	return alert.Receipt{}, nil
}

// keepEnd keeps the last max bytes of s, starting on a rune boundary.
func keepEnd(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[len(s)-max:]
	for len(s) > 0 && s[0]&0xC0 == 0x80 {
		s = s[1:]
	}
	return "…" + s
}
