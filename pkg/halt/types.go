package halt

import (
	"context"
	"time"

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

// Pager pages what the engine did: the listener turns each Report into an
// alert and commits it to its durable alert pipeline. Page is local and
// fast and returns once the page is committed (or its failure logged); the
// halt never waits on it before the stops.
type Pager interface {
	Page(ctx context.Context, r Report)
}

// ReportKind says what a Report is about.
type ReportKind string

// Report kinds.
const (
	// ReportUnreachable: a halt cannot reach supervisord yet and keeps
	// retrying; Err says why.
	ReportUnreachable ReportKind = "unreachable"
	// ReportHalt: a halt was carried out (Result).
	ReportHalt ReportKind = "halt"
	// ReportFinish: a halt found unfinished on start-up was completed
	// (Result); with nothing left to stop it repeats the halt's page.
	ReportFinish ReportKind = "finish"
	// ReportEnforce: targets that started while halted were stopped again
	// (Result).
	ReportEnforce ReportKind = "enforce"
	// ReportResume: the latch was cleared (Resume, CriticalDown).
	ReportResume ReportKind = "resume"
)

// Report is one thing the engine pages.
type Report struct {
	Kind   ReportKind
	Record Record    // the halt the report belongs to
	Time   time.Time // when, by the engine's clock
	Result *Result   // ReportHalt, ReportFinish, ReportEnforce
	Err    error     // ReportUnreachable
	// Resume and CriticalDown describe a ReportResume: how it was asked
	// for, and the critical programs not RUNNING then ("name STATE").
	Resume       ResumeOptions
	CriticalDown []string
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
	By      string  // who asks, e.g. "haltguard" for an automatic halt; default "unknown"
	Trigger Trigger // zero for a manual or remote halt
	// TraceID joins the halt to an incident already traced; "" makes a new one.
	TraceID string
	// Time is when the failure was observed; the halt's duration is
	// measured from it. Zero means now.
	Time time.Time
	// OnLatch, when not nil, is called with the outcome of the first latch
	// write, while the stops are already on their way: an event listener
	// acknowledges the event that caused the halt only then.
	OnLatch func(error)
}

// Result is what a halt did.
type Result struct {
	Record         Record
	Stopped        []string          // targets that were running and were stopped
	AlreadyDown    []string          // targets running when listed but stopped by another hand before this halt's stop reached them
	Killed         []string          // targets that outlived the verification deadline and got SIGKILL
	Survivors      []string          // targets still not stopped after SIGKILL
	StopErrors     map[string]string // per-target errors that did not resolve
	Flatten        *FlattenResult    // nil when no flatten command is configured
	LatchErr       error             // the first latch write failed (a retry runs in the background)
	Attempts       int               // rounds needed to reach supervisord
	Duration       time.Duration     // from Request.Time (an enforcement: from its start) until every target was verified stopped
	SupervisorDown bool              // supervisord was shutting down: it stops everything itself
	TriggerTail    string            // tail of the trigger's stderr log, for the page
}

// Done reports whether every target is known to be stopped.
func (r *Result) Done() bool {
	return len(r.Survivors) == 0 && len(r.StopErrors) == 0 && !r.SupervisorDown
}
