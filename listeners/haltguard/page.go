package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/backoff"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/supervisor"
)

// resumeHint tells the operator how to end the halt.
const resumeHint = "when it is safe: `haltguard resume --start` (refused while a critical program is not RUNNING; --force overrides)"

// submitTimeout bounds one Submit: it is local (SQLite), but a broken store
// must not hold the halt's goroutine.
const submitTimeout = 10 * time.Second

// pages turns what the halt engine and the guard report into haltguard's
// alerts and commits them. It implements halt.Pager.
type pages struct {
	host    string // names this host in alert keys
	runbook string // a link put in every page
	sub     alert.Submitter
	log     zerolog.Logger
	retries sync.WaitGroup // pages whose commit is being retried
}

var _ halt.Pager = (*pages)(nil)

// newPages returns the page builder; host defaults to the host name.
func newPages(host, runbook string, sub alert.Submitter, log zerolog.Logger) (*pages, error) {
	if host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("host name: %w", err)
		}
		host = h
	}
	return &pages{host: host, runbook: runbook, sub: sub, log: log}, nil
}

// Wait waits for the pages whose commit is being retried (each for at
// most commitWithin).
func (p *pages) Wait() { p.retries.Wait() }

// Page implements halt.Pager.
func (p *pages) Page(ctx context.Context, r halt.Report) {
	var a *alert.Alert
	switch r.Kind {
	case halt.ReportUnreachable:
		a = p.unreachableAlert(r)
	case halt.ReportResume:
		a = p.resumeAlert(r)
	default:
		a = p.resultAlert(r)
	}
	p.submit(ctx, a)
}

// commitWithin is how long a page whose commit failed (a locked or full
// store) is retried in the background before it is given up, logged whole.
const commitWithin = 10 * time.Minute

// submit commits a to the alert pipeline. A failure is logged with the
// whole alert (so the page is at least on stderr) and retried in the
// background with backoff until it is committed: a page of a safety action
// is never lost to a store locked for a while.
func (p *pages) submit(ctx context.Context, a *alert.Alert) {
	if p.try(ctx, a, 1) {
		return
	}
	p.retries.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitWithin)
		defer cancel()
		b := backoff.New(500*time.Millisecond, 30*time.Second, 0.2)
		for attempt := 2; backoff.Sleep(ctx, b.Next()); attempt++ {
			if p.try(ctx, a, attempt) {
				return
			}
		}
		audit(p.log, zerolog.ErrorLevel, a.TraceID, "page_lost").Str("key", a.Key).Msg("audit")
	})
}

// try makes one attempt at committing a; the audit line says what
// happened.
func (p *pages) try(ctx context.Context, a *alert.Alert, attempt int) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), submitTimeout)
	defer cancel()
	err := p.sub.Submit(ctx, a)
	if err == nil {
		audit(p.log, zerolog.InfoLevel, a.TraceID, "page_committed").Str("key", a.Key).Str("kind", string(a.Kind)).
			Str("summary", a.Summary).Int("attempt", attempt).Msg("audit")
		return true
	}
	body, _ := json.Marshal(a)
	audit(p.log, zerolog.ErrorLevel, a.TraceID, "page_failed").Err(err).Int("attempt", attempt).
		RawJSON("alert", body).Msg("audit")
	return false
}

// audit starts an audit line like the halt engine's: message "audit", the
// action and the incident's trace id.
func audit(log zerolog.Logger, level zerolog.Level, traceID, action string) *zerolog.Event {
	return log.WithLevel(level).Str("action", action).Str("trace_id", traceID)
}

// alertKey returns the dedup key of the incident a halt belongs to. A halt
// caused by a FATAL shares the key of that FATAL (the key crashpager uses),
// so the failure and the halt page as one incident; any other automatic
// halt is keyed by its trigger and the halt condition; a manual halt is
// host-wide.
func alertKey(host string, r halt.Record) string {
	switch {
	case r.Trigger == "":
		return alert.Key(host, "", alert.CondHalt)
	case r.TriggerState == supervisor.ProcessFatal.String():
		return alert.Key(host, r.Trigger, alert.CondFatal)
	default:
		return alert.Key(host, r.Trigger, alert.CondHalt)
	}
}

// baseAlert fills the fields every haltguard alert of rec shares.
func (p *pages) baseAlert(rec halt.Record, kind alert.Kind, at time.Time) *alert.Alert {
	a := &alert.Alert{
		Key:       alertKey(p.host, rec),
		Kind:      kind,
		Host:      p.host,
		Condition: alert.CondHalt,
		Severity:  alert.Critical,
		Runbook:   p.runbook,
		Listener:  listenerName,
		TraceID:   rec.TraceID,
		Time:      at,
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
func (p *pages) unreachableAlert(r halt.Report) *alert.Alert {
	rec := r.Record
	a := p.baseAlert(rec, alert.Trigger, r.Time)
	a.SourceID = "halt-unreachable/" + rec.TraceID
	a.Summary = fmt.Sprintf("HALT NOT CARRIED OUT: %s: supervisord unreachable, retrying", what(rec))
	a.Details["error"] = r.Err.Error()
	a.Action = "halt requested but supervisord did not answer; haltguard keeps retrying with backoff " +
		"(stop the trading processes by hand if this persists)"
	return a
}

// resultAlert reports a halt, its completion or an enforcement.
func (p *pages) resultAlert(r halt.Report) *alert.Alert {
	res, rec := r.Result, r.Record
	a := p.baseAlert(rec, alert.Trigger, r.Time)
	a.LogTail = res.TriggerTail
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
	} else if r.Kind != halt.ReportEnforce {
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

	switch r.Kind {
	case halt.ReportEnforce:
		a.SourceID = fmt.Sprintf("enforce/%s/%d", rec.TraceID, r.Time.UnixNano())
		a.Summary = fmt.Sprintf("Trading is halted: stopped %s again (started while halted)", list(res.Stopped))
		a.Action = "stopped targets that started while the halt latch was set: " + list(res.Stopped)
	default:
		a.SourceID = "halt/" + rec.TraceID
		if r.Kind == halt.ReportFinish && len(res.Stopped)+len(res.Killed)+len(res.Survivors) > 0 {
			// Finishing after a restart found work to do: that is news.
			a.SourceID = fmt.Sprintf("halt/%s/finish/%d", rec.TraceID, r.Time.UnixNano())
		}
		a.Summary = haltSummary(rec, res)
		a.Action = haltAction(res)
	}
	if !res.Done() && r.Kind == halt.ReportEnforce {
		a.Summary += "; NOT ALL STOPPED"
	}
	return a
}

func haltSummary(rec halt.Record, res *halt.Result) string {
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

func haltAction(res *halt.Result) string {
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
func what(rec halt.Record) string {
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

// resumeAlert resolves the halt's incident. After a forced resume while the
// program whose failure caused the halt is still down, the incident stays
// open (it is that program's failure too): the alert updates it instead.
func (p *pages) resumeAlert(r halt.Report) *alert.Alert {
	rec, opts := r.Record, r.Resume
	stillDown := rec.Trigger != "" && slices.ContainsFunc(r.CriticalDown, func(s string) bool {
		return strings.HasPrefix(s, rec.Trigger+" ")
	})
	kind := alert.Resolve
	if stillDown {
		kind = alert.Trigger
	}
	a := p.baseAlert(rec, kind, r.Time)
	a.SourceID = "resume/" + rec.TraceID
	a.Details["resumed_by"] = opts.By
	a.Details["resume_started_targets"] = fmt.Sprint(opts.Start)
	if len(r.CriticalDown) > 0 {
		a.Details["critical_down_at_resume"] = strings.Join(r.CriticalDown, ", ")
	}
	a.Summary = fmt.Sprintf("Trading resumed by %s after halt (%s)", opts.By, what(rec))
	a.Action = "halt latch cleared by " + opts.By
	if stillDown {
		a.Summary = fmt.Sprintf("Trading resumed with --force by %s while %s is still down", opts.By, rec.Trigger)
		a.Action += " (forced while " + rec.Trigger + " is still down)"
	}
	return a
}
