package supervisor

import (
	"fmt"
	"strings"
	"time"
)

// State is supervisord's own state, as returned by supervisor.getState.
type State struct {
	Code int    // 2 FATAL, 1 RUNNING, 0 RESTARTING, -1 SHUTDOWN
	Name string // e.g. "RUNNING"
}

// Supervisord daemon state codes (State.Code).
const (
	SupervisorFatal      = 2
	SupervisorRunning    = 1
	SupervisorRestarting = 0
	SupervisorShutdown   = -1
)

// ProcessState is the state code of a supervised process.
type ProcessState int

// Process state codes, as defined by supervisord (supervisor/states.py).
const (
	ProcessStopped  ProcessState = 0
	ProcessStarting ProcessState = 10
	ProcessRunning  ProcessState = 20
	ProcessBackoff  ProcessState = 30
	ProcessStopping ProcessState = 40
	ProcessExited   ProcessState = 100
	ProcessFatal    ProcessState = 200
	ProcessUnknown  ProcessState = 1000
)

var processStateNames = map[ProcessState]string{
	ProcessStopped:  "STOPPED",
	ProcessStarting: "STARTING",
	ProcessRunning:  "RUNNING",
	ProcessBackoff:  "BACKOFF",
	ProcessStopping: "STOPPING",
	ProcessExited:   "EXITED",
	ProcessFatal:    "FATAL",
	ProcessUnknown:  "UNKNOWN",
}

// String returns the upper-case name supervisord uses, e.g. "RUNNING", or
// "ProcessState(N)" for a code supervisord does not define.
func (s ProcessState) String() string {
	if name, ok := processStateNames[s]; ok {
		return name
	}
	return fmt.Sprintf("ProcessState(%d)", int(s))
}

// Stopped reports whether s is one of supervisord's STOPPED_STATES
// (STOPPED, EXITED, FATAL, UNKNOWN): the process is not running and
// supervisord will not start it again on its own, except EXITED with
// autorestart. startProcess accepts a process only in these states;
// stopProcess answers FaultNotRunning for them and for STOPPING.
func (s ProcessState) Stopped() bool {
	switch s {
	case ProcessStopped, ProcessExited, ProcessFatal, ProcessUnknown:
		return true
	}
	return false
}

// Running reports whether s is STARTING, RUNNING, BACKOFF or STOPPING: the
// process is alive or supervisord is still acting on it. For the defined
// states it is the opposite of Stopped.
func (s ProcessState) Running() bool {
	switch s {
	case ProcessStarting, ProcessRunning, ProcessStopping, ProcessBackoff:
		return true
	}
	return false
}

// ParseProcessState parses a process state name. It accepts supervisord's
// upper-case names ("RUNNING") and the Title-case names of the Go
// supervisord ("Running"); matching is case-insensitive and ignores
// surrounding spaces.
func ParseProcessState(name string) (ProcessState, error) {
	upper := strings.ToUpper(strings.TrimSpace(name))
	for state, n := range processStateNames {
		if n == upper {
			return state, nil
		}
	}
	return ProcessUnknown, fmt.Errorf("unknown process state %q", name)
}

// ProcessInfo describes one process, as returned by getProcessInfo and
// getAllProcessInfo.
type ProcessInfo struct {
	Name  string // program (process) name, e.g. "engine"
	Group string // group name; an ungrouped program's group is its own name

	State     ProcessState
	StateName string // the name exactly as the server sent it ("RUNNING" or Go supervisord's "Running")

	PID int // 0 when not running

	// Start and Stop are the last start and stop times; the zero time.Time
	// when the process has never started / stopped. Now is the server's clock
	// at the time of the call, to compare Start and Stop against.
	Start, Stop, Now time.Time

	ExitStatus    int
	SpawnErr      string // why the last spawn failed, "" if it did not
	Description   string // e.g. "pid 123, uptime 0:01:02"
	StdoutLogfile string
	StderrLogfile string
}

// FullName returns the name supervisord accepts for the process in every
// call: "group:name". Go supervisord leaves Group empty in some replies; the
// bare name is returned then.
func (p ProcessInfo) FullName() string { return FullName(p.Group, p.Name) }

// GroupName is the process's group: its own name for an ungrouped program
// in the Go supervisord's replies, which leave Group empty, as real
// supervisord and the normalised events name it.
func (p ProcessInfo) GroupName() string {
	if p.Group == "" {
		return p.Name
	}
	return p.Group
}

// FullName is "group:name", or name alone when group is empty.
func FullName(group, name string) string {
	if group == "" {
		return name
	}
	return group + ":" + name
}

// Uptime returns how long the process has been running according to the
// server's clock, or 0 when it is not RUNNING.
func (p ProcessInfo) Uptime() time.Duration {
	if p.State != ProcessRunning || p.Start.IsZero() || p.Now.Before(p.Start) {
		return 0
	}
	return p.Now.Sub(p.Start)
}

// ProcessStatus is the per-process result of a group operation
// (startProcessGroup, stopProcessGroup, signalProcessGroup). Status is a fault
// code: FaultSuccess (80) when the operation succeeded for that process.
// (The Go supervisord answers group operations with process infos instead:
// Status is 0 there.)
type ProcessStatus struct {
	Name        string
	Group       string
	Status      int
	Description string
}

// FullName returns "group:name".
func (s ProcessStatus) FullName() string { return FullName(s.Group, s.Name) }

// Err returns nil when Status is FaultSuccess, and otherwise a *Fault built
// from Status and Description (which holds the fault string, e.g.
// "BAD_SIGNAL: NOSUCHSIG").
func (s ProcessStatus) Err() error {
	if s.Status == FaultSuccess {
		return nil
	}
	return newFault(s.Status, s.Description)
}

// Tail is a chunk of a process log returned by tailProcessStdoutLog /
// tailProcessStderrLog. Offset is the size of the log, to pass as the offset
// of the next call; Overflow is true when the log held more than
// offset+length bytes, so that bytes after offset were skipped.
type Tail struct {
	Data     string
	Offset   int
	Overflow bool
}

// Call is one call inside a Multicall.
type Call struct {
	Method string // e.g. "supervisor.getProcessInfo"
	Params []any
}

// CallResult is the outcome of one Call in a Multicall: Value is the decoded
// XML-RPC value (string, int64, bool, float64, time.Time, []any,
// map[string]any) when Err is nil; Err is a *Fault otherwise.
type CallResult struct {
	Value any
	Err   error
}
