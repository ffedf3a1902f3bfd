package halt

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
)

// ListenerName is haltguard's name: the alert.Alert.Listener of its alerts
// and its section in the shared config's listeners map.
const ListenerName = "haltguard"

// resumeHint tells the operator how to end the halt.
const resumeHint = "when it is safe: `haltguard resume --start` (refused while a critical program is not RUNNING; --force overrides)"

// submitTimeout bounds one Submit: it is local (SQLite), but a broken store
// must not hold the halt's goroutine.
const submitTimeout = 10 * time.Second

type pageKind string

const (
	pageHalt    pageKind = "halt"
	pageEnforce pageKind = "enforce"
)

// submit commits a to the alert pipeline. A failure is logged with the
// whole alert, so the page is at least on stderr.
func (e *Engine) submit(ctx context.Context, a *alert.Alert) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), submitTimeout)
	defer cancel()
	err := e.pager.Submit(ctx, a)
	if err == nil {
		audit(e.log, zerolog.InfoLevel, a.TraceID, "page").Str("key", a.Key).Str("kind", string(a.Kind)).
			Str("summary", a.Summary).Msg("audit")
		return
	}
	body, _ := json.Marshal(a)
	audit(e.log, zerolog.ErrorLevel, a.TraceID, "page_failed").Err(err).RawJSON("alert", body).Msg("audit")
}

// baseAlert fills the fields every haltguard alert of rec shares.
func (e *Engine) baseAlert(rec Record, kind alert.Kind) *alert.Alert {
	a := &alert.Alert{
		Key:       rec.AlertKey(e.cfg.Host),
		Kind:      kind,
		Host:      e.cfg.Host,
		Condition: alert.CondHalt,
		Severity:  alert.Critical,
		Runbook:   e.cfg.Runbook,
		Listener:  ListenerName,
		TraceID:   rec.TraceID,
		Time:      e.now(),
		Details: map[string]string{
			alert.DetailHaltReason: rec.Reason,
			"halted_by":            rec.By,
			"halted_at":            rec.Since.Format(time.RFC3339Nano),
			"trace_id":             rec.TraceID,
		},
	}
	if rec.Trigger != "" {
		a.Group, a.Program, _ = strings.Cut(rec.Trigger, ":")
		a.Details["trigger"] = rec.Trigger
		a.Details["trigger_state"] = rec.TriggerState
	}
	return a
}

// unreachableAlert says that a halt could not be carried out yet.
func (e *Engine) unreachableAlert(rec Record, err error) *alert.Alert {
	a := e.baseAlert(rec, alert.Trigger)
	a.SourceID = "halt-unreachable/" + rec.TraceID
	a.Summary = fmt.Sprintf("HALT NOT CARRIED OUT: %s: supervisord unreachable, retrying", what(rec))
	a.Details["error"] = err.Error()
	a.Action = "halt requested but supervisord did not answer; haltguard keeps retrying with backoff " +
		"(stop the trading processes by hand if this persists)"
	return a
}

// resultAlert reports a halt or an enforcement.
func (e *Engine) resultAlert(res *Result, kind pageKind) *alert.Alert {
	rec := res.Record
	a := e.baseAlert(rec, alert.Trigger)
	a.LogTail = res.triggerTail
	d := a.Details
	d["stopped"] = list(res.Stopped)
	d["stopped_count"] = strconv.Itoa(len(res.Stopped))
	d["halt_duration_ms"] = strconv.FormatInt(res.Duration.Milliseconds(), 10)
	d["resume"] = resumeHint
	if len(res.Killed) > 0 {
		d["killed"] = list(res.Killed)
	}
	if len(res.Survivors) > 0 {
		d["survivors"] = list(res.Survivors)
	}
	if len(res.StopErrors) > 0 {
		var errs []string
		for _, n := range slices.Sorted(maps.Keys(res.StopErrors)) {
			errs = append(errs, n+": "+res.StopErrors[n])
		}
		d["stop_errors"] = strings.Join(errs, "; ")
	}
	if res.Attempts > 1 {
		d["attempts"] = strconv.Itoa(res.Attempts)
	}
	if res.LatchErr != nil {
		d["latch"] = "write failed, retrying in the background: " + res.LatchErr.Error()
	} else if kind == pageHalt {
		d["latch"] = "recorded"
	}
	if f := res.Flatten; f != nil {
		d["flatten_command"] = strings.Join(f.Command, " ")
		d["flatten_exit_code"] = strconv.Itoa(f.ExitCode)
		d["flatten_duration_ms"] = strconv.FormatInt(f.Duration.Milliseconds(), 10)
		d["flatten_output"] = f.Output
		if !f.OK() {
			d["flatten_error"] = f.Err
		}
	}

	switch kind {
	case pageEnforce:
		a.SourceID = fmt.Sprintf("enforce/%s/%d", rec.TraceID, e.now().UnixNano())
		a.Summary = fmt.Sprintf("Trading is halted: stopped %s again (started while halted)", list(res.Stopped))
		a.Action = "stopped targets that started while the halt latch was set: " + list(res.Stopped)
	default:
		a.SourceID = "halt/" + rec.TraceID
		if res.finishing && len(res.Stopped)+len(res.Killed)+len(res.Survivors) > 0 {
			// Finishing after a restart found work to do: that is news.
			a.SourceID = fmt.Sprintf("halt/%s/finish/%d", rec.TraceID, e.now().UnixNano())
		}
		a.Summary = haltSummary(rec, res)
		a.Action = haltAction(res)
	}
	if !res.Done() && kind == pageEnforce {
		a.Summary += "; NOT ALL STOPPED"
	}
	return a
}

func haltSummary(rec Record, res *Result) string {
	var b strings.Builder
	switch {
	case res.SupervisorDown:
		b.WriteString("HALT: supervisord is shutting down and stops every process itself; the latch holds when it starts again")
	case !res.Done():
		b.WriteString("HALT INCOMPLETE: " + what(rec))
	default:
		b.WriteString("HALTED trading: " + what(rec))
	}
	fmt.Fprintf(&b, "; %d stopped in %s", len(res.Stopped), res.Duration.Round(time.Millisecond))
	if len(res.Killed) > 0 {
		fmt.Fprintf(&b, ", SIGKILL sent to %s", list(res.Killed))
	}
	if len(res.Survivors) > 0 {
		fmt.Fprintf(&b, ", STILL RUNNING: %s", list(res.Survivors))
	}
	if f := res.Flatten; f != nil && !f.OK() {
		b.WriteString(", FLATTEN FAILED")
	}
	return b.String()
}

func haltAction(res *Result) string {
	parts := []string{"halted trading: latched"}
	if len(res.Stopped) > 0 {
		parts = append(parts, "stopped "+list(res.Stopped))
	}
	if len(res.Killed) > 0 {
		parts = append(parts, "SIGKILLed "+list(res.Killed))
	}
	if f := res.Flatten; f != nil {
		if f.OK() {
			parts = append(parts, "flatten command succeeded")
		} else {
			parts = append(parts, "flatten command failed: "+f.Err)
		}
	}
	return strings.Join(parts, "; ")
}

// what says what caused the halt, for summaries.
func what(rec Record) string {
	if rec.Trigger != "" {
		return rec.Trigger + " " + rec.TriggerState
	}
	return fmt.Sprintf("manual halt by %s (%s)", rec.By, rec.Reason)
}

// list joins names for a page, bounded so a huge group does not blow up
// the summary.
func list(names []string) string {
	const maxNames = 25
	if len(names) == 0 {
		return "none"
	}
	if len(names) > maxNames {
		return strings.Join(names[:maxNames], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNames)
	}
	return strings.Join(names, ", ")
}
