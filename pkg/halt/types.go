package halt

import (
	"context"
	"fmt"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Supervisor is the part of supervisord's XML-RPC API the halt engine uses.
// *supervisor.Client implements it.
type Supervisor interface {
	GetState(ctx context.Context) (supervisor.State, error)
	GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error)
	StopProcess(ctx context.Context, name string, wait bool) error
	StartProcess(ctx context.Context, name string, wait bool) error
	SignalProcess(ctx context.Context, name, signal string) error
	TailProcessStderrLog(ctx context.Context, name string, offset, length int) (supervisor.Tail, error)
	Multicall(ctx context.Context, calls []supervisor.Call) ([]supervisor.CallResult, error)
}

// Latch is the halt latch in the shared state store: while it is set,
// trading stays halted whatever restarts (haltguard, supervisord, the host).
type Latch interface {
	// Get returns the latch and when it was last cleared.
	Get(ctx context.Context) (LatchState, error)
	// Set records the latch (and appends it to the halt history).
	Set(ctx context.Context, rec Record) error
	// Complete marks the halt of the latch with traceID as carried out and
	// paged, so a restart of haltguard does not page it again.
	Complete(ctx context.Context, traceID string, at time.Time) error
	// Clear removes the latch, recording who resumed and when.
	Clear(ctx context.Context, by string, at time.Time) error
}

// Pager commits an alert to the durable alert pipeline. Submit is local and
// fast; the halt never waits on it before the stops.
type Pager interface {
	Submit(ctx context.Context, a *alert.Alert) error
}

// LatchState is the latch as read from the store.
type LatchState struct {
	Latched bool
	Record  Record // valid when Latched
	// ResumedAt and ResumedBy tell when and by whom the latch was last
	// cleared (zero if never). A critical program that failed before a
	// forced resume does not halt again.
	ResumedAt time.Time
	ResumedBy string
}

// Record is the halt latch: why trading was halted, by whom, since when.
type Record struct {
	Reason string // for humans
	// Trigger is the "group:name" of the process whose failure caused the
	// halt, "" for a manual or remote halt; TriggerState its state then
	// ("FATAL", "EXITED", ...).
	Trigger      string
	TriggerState string
	By           string    // "haltguard", "remote:healthprobe", "cli:alice@host", ...
	TraceID      string    // shared by every audit line and alert of the incident
	Since        time.Time // when the halt started
	// Completed is when the halt was carried out and paged; zero while a
	// halt is in progress (a haltguard restarted then finishes it).
	Completed time.Time
}

// AlertKey returns the dedup key of the incident the halt belongs to. A halt
// caused by a FATAL shares the key of that FATAL (the key crashpager uses), so
// the failure and the halt page as one incident; any other automatic halt
// is keyed by its trigger and the halt condition; a manual halt is host-wide.
func (r Record) AlertKey(host string) string {
	switch {
	case r.Trigger == "":
		return alert.Key(host, "", alert.CondHalt)
	case r.TriggerState == supervisor.ProcessFatal.String():
		return alert.Key(host, r.Trigger, alert.CondFatal)
	default:
		return alert.Key(host, r.Trigger, alert.CondHalt)
	}
}

// triggerReason is the latch reason of an automatic halt:
// "<process> <STATE> (<how>)", e.g. "risk:rm FATAL (event)".
func triggerReason(process string, state supervisor.ProcessState, how string) string {
	return fmt.Sprintf("%s %s (%s)", process, state, how)
}

// Trigger describes the failure of a critical program that calls for a
// halt.
type Trigger struct {
	Process   string // "group:name"
	State     supervisor.ProcessState
	FromState string // from the event, "" when found by a check
	Expected  bool   // the exit was expected (EXITED events only)
	PID       int
	// Source says how the failure was seen: "event", "tick", "start" or
	// "gap" (a check after supervisord dropped events).
	Source string
}

// Request asks for a halt.
type Request struct {
	Reason  string
	By      string
	Trigger Trigger // zero for a manual or remote halt
	// TraceID joins the halt to an incident already traced; "" makes a new one.
	TraceID string
	// Time is when the failure was observed; the halt's duration is
	// measured from it. Zero means now.
	Time time.Time
}

// Result is what a halt did.
type Result struct {
	Record         Record
	Stopped        []string          // targets that were running and were stopped
	Killed         []string          // targets that outlived the verification deadline and got SIGKILL
	Survivors      []string          // targets still not stopped after SIGKILL
	StopErrors     map[string]string // per-target errors that did not resolve
	Flatten        *FlattenResult    // nil when no flatten command is configured
	LatchErr       error             // the first latch write failed (a retry runs in the background)
	Attempts       int               // rounds needed to reach supervisord
	Duration       time.Duration     // from Request.Time until every target was verified stopped
	SupervisorDown bool              // supervisord was shutting down: it stops everything itself

	triggerTail string // tail of the trigger's stderr log, for the page
	finishing   bool   // the result of Finish
}

// Done reports whether every target is known to be stopped.
func (r *Result) Done() bool {
	return len(r.Survivors) == 0 && len(r.StopErrors) == 0 && !r.SupervisorDown
}
