package supervisor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// rawState is the struct supervisor.getState returns.
type rawState struct {
	Code int    `xmlrpc:"statecode"`
	Name string `xmlrpc:"statename"`
}

// rawProcessInfo is the struct getProcessInfo returns (supervisord and Go
// supervisord use the same member names).
type rawProcessInfo struct {
	Name          string `xmlrpc:"name"`
	Group         string `xmlrpc:"group"`
	Description   string `xmlrpc:"description"`
	Start         int64  `xmlrpc:"start"`
	Stop          int64  `xmlrpc:"stop"`
	Now           int64  `xmlrpc:"now"`
	State         int    `xmlrpc:"state"`
	StateName     string `xmlrpc:"statename"`
	SpawnErr      string `xmlrpc:"spawnerr"`
	ExitStatus    int    `xmlrpc:"exitstatus"`
	StdoutLogfile string `xmlrpc:"stdout_logfile"`
	StderrLogfile string `xmlrpc:"stderr_logfile"`
	PID           int    `xmlrpc:"pid"`
}

// rawProcessStatus is one element of a group operation's result.
type rawProcessStatus struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	Status      int    `xmlrpc:"status"`
	Description string `xmlrpc:"description"`
}

func (r rawProcessInfo) info() ProcessInfo {
	state := ProcessState(r.State)
	if _, known := processStateNames[state]; !known {
		if parsed, err := ParseProcessState(r.StateName); err == nil {
			state = parsed
		}
	}
	return ProcessInfo{
		Name:          r.Name,
		Group:         r.Group,
		State:         state,
		StateName:     r.StateName,
		PID:           r.PID,
		Start:         unixTime(r.Start),
		Stop:          unixTime(r.Stop),
		Now:           unixTime(r.Now),
		ExitStatus:    r.ExitStatus,
		SpawnErr:      r.SpawnErr,
		Description:   r.Description,
		StdoutLogfile: r.StdoutLogfile,
		StderrLogfile: r.StderrLogfile,
	}
}

// unixTime converts supervisord's integer timestamps. 0 ("never") becomes
// the zero time.Time, and so does a negative value: Go supervisord sends
// time.Time{}.Unix() for a process that never started.
func unixTime(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func statuses(raw []rawProcessStatus) []ProcessStatus {
	out := make([]ProcessStatus, len(raw))
	for i, r := range raw {
		out[i] = ProcessStatus(r)
	}
	return out
}

// GetState returns supervisord's own state, e.g. {1, "RUNNING"}.
func (c *Client) GetState(ctx context.Context) (State, error) {
	var r rawState
	if err := c.call(ctx, "supervisor.getState", &r); err != nil {
		return State{}, err
	}
	return State(r), nil
}

// GetPID returns the pid of supervisord.
func (c *Client) GetPID(ctx context.Context) (int, error) {
	var pid int
	if err := c.call(ctx, "supervisor.getPID", &pid); err != nil {
		return 0, err
	}
	return pid, nil
}

// GetAllProcessInfo returns the state of every process, eventlisteners
// included.
func (c *Client) GetAllProcessInfo(ctx context.Context) ([]ProcessInfo, error) {
	var raw []rawProcessInfo
	if err := c.call(ctx, "supervisor.getAllProcessInfo", &raw); err != nil {
		return nil, err
	}
	infos := make([]ProcessInfo, len(raw))
	for i, r := range raw {
		infos[i] = r.info()
	}
	return infos, nil
}

// GetProcessInfo returns the state of one process, named "group:name" (or
// just "name" for an ungrouped program). An unknown name is FaultBadName.
func (c *Client) GetProcessInfo(ctx context.Context, name string) (ProcessInfo, error) {
	var raw rawProcessInfo
	if err := c.call(ctx, "supervisor.getProcessInfo", &raw, name); err != nil {
		return ProcessInfo{}, err
	}
	return raw.info(), nil
}

// StartProcess starts a process. With wait, supervisord answers only once the
// process is RUNNING (after startsecs) or has failed (FaultSpawnError,
// FaultAbnormalTermination); give ctx a deadline longer than startsecs. A
// process already running is FaultAlreadyStarted.
func (c *Client) StartProcess(ctx context.Context, name string, wait bool) error {
	return c.callBool(ctx, "supervisor.startProcess", name, wait)
}

// StopProcess stops a process. With wait, supervisord answers only once the
// process has exited, which can take up to its stopwaitsecs; give ctx a
// deadline longer than that. A process that is not running is
// FaultNotRunning.
func (c *Client) StopProcess(ctx context.Context, name string, wait bool) error {
	return c.callBool(ctx, "supervisor.stopProcess", name, wait)
}

// StartProcessGroup starts every process of group. Per-process failures are
// reported in the statuses (see ProcessStatus.Err), not as an error; the
// error is for the call itself (e.g. FaultBadName for an unknown group).
func (c *Client) StartProcessGroup(ctx context.Context, group string, wait bool) ([]ProcessStatus, error) {
	return c.callStatuses(ctx, "supervisor.startProcessGroup", group, wait)
}

// StopProcessGroup stops every running process of group and returns one
// status per process it stopped (none when nothing was running).
func (c *Client) StopProcessGroup(ctx context.Context, group string, wait bool) ([]ProcessStatus, error) {
	return c.callStatuses(ctx, "supervisor.stopProcessGroup", group, wait)
}

// SignalProcess sends signal ("HUP", "TERM", "USR1", or a number as text) to
// a process. A process that is not running is FaultNotRunning; an unknown
// signal is FaultBadSignal.
func (c *Client) SignalProcess(ctx context.Context, name, signal string) error {
	return c.callBool(ctx, "supervisor.signalProcess", name, signal)
}

// SignalProcessGroup sends signal to every running process of group.
func (c *Client) SignalProcessGroup(ctx context.Context, group, signal string) ([]ProcessStatus, error) {
	return c.callStatuses(ctx, "supervisor.signalProcessGroup", group, signal)
}

// SendProcessStdin writes data to a running process's stdin (a process
// not running is FaultNotRunning; one whose stdin is closed or not a pipe
// is FaultNoFile).
func (c *Client) SendProcessStdin(ctx context.Context, name, data string) error {
	return c.callBool(ctx, "supervisor.sendProcessStdin", name, data)
}

// signals are the signal names supervisord's signalProcess accepts (its
// signal module's names without SIG), those a strategy may be told by.
var signals = []string{"HUP", "INT", "QUIT", "USR1", "USR2", "TERM", "ALRM", "CONT", "STOP", "TSTP", "WINCH", "PWR", "URG", "IO"}

// ParseSignal normalises a signal name ("usr1", "SIGUSR1" -> "USR1") for
// SignalProcess; KILL is refused (a strategy told something must live to
// hear it), as is an empty or unknown name.
func ParseSignal(s string) (string, error) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	if slices.Contains(signals, n) {
		return n, nil
	}
	return "", fmt.Errorf("signal %q: want one of %s", s, strings.Join(signals, ", "))
}

// TailProcessStdoutLog returns the end of a process's stdout log. As
// supervisord implements it, Tail.Data is the last length bytes of the log
// (all of it when shorter) whenever the log is longer than offset, and empty
// otherwise; Tail.Offset is the log's size, to pass as offset next time so
// that an unchanged log returns nothing. A process without a log file
// returns an empty Tail; an unknown one is FaultBadName.
func (c *Client) TailProcessStdoutLog(ctx context.Context, name string, offset, length int) (Tail, error) {
	return c.tail(ctx, "supervisor.tailProcessStdoutLog", name, offset, length)
}

// TailProcessStderrLog is TailProcessStdoutLog for the stderr log.
func (c *Client) TailProcessStderrLog(ctx context.Context, name string, offset, length int) (Tail, error) {
	return c.tail(ctx, "supervisor.tailProcessStderrLog", name, offset, length)
}

// SendRemoteCommEvent makes supervisord emit a REMOTE_COMMUNICATION event
// with the given type and data to the eventlisteners subscribed to it. It is
// the one call supervisord still accepts while shutting down.
func (c *Client) SendRemoteCommEvent(ctx context.Context, typ, data string) error {
	return c.callBool(ctx, "supervisor.sendRemoteCommEvent", typ, data)
}

func (c *Client) callBool(ctx context.Context, method string, args ...any) error {
	var ok bool
	if err := c.call(ctx, method, &ok, args...); err != nil {
		return err
	}
	if !ok {
		return c.wrap(method, fmt.Errorf("server returned false"))
	}
	return nil
}

func (c *Client) callStatuses(ctx context.Context, method string, args ...any) ([]ProcessStatus, error) {
	var raw []rawProcessStatus
	if err := c.call(ctx, method, &raw, args...); err != nil {
		return nil, err
	}
	return statuses(raw), nil
}

func (c *Client) tail(ctx context.Context, method, name string, offset, length int) (Tail, error) {
	var raw []any
	if err := c.call(ctx, method, &raw, name, offset, length); err != nil {
		return Tail{}, err
	}
	t, err := parseTail(raw)
	if err != nil {
		return Tail{}, c.wrap(method, err)
	}
	return t, nil
}

// parseTail decodes the [string bytes, int offset, bool overflow] array of
// the tail methods.
func parseTail(raw []any) (Tail, error) {
	if len(raw) != 3 {
		return Tail{}, fmt.Errorf("decode response: want [data, offset, overflow], got %d values", len(raw))
	}
	// kolo decodes an empty <string></string> as nil.
	data, ok1 := raw[0].(string)
	if raw[0] == nil {
		data, ok1 = "", true
	}
	offset, ok2 := raw[1].(int64)
	overflow, ok3 := raw[2].(bool)
	if !ok1 || !ok2 || !ok3 {
		return Tail{}, fmt.Errorf("decode response: want [string, int, bool], got [%T, %T, %T]", raw[0], raw[1], raw[2])
	}
	return Tail{Data: data, Offset: int(offset), Overflow: overflow}, nil
}
