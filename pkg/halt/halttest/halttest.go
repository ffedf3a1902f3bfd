// Package halttest holds fakes of the halt engine's collaborators for
// tests: a Supervisor whose process states move as supervisord moves them,
// an in-memory Latch whose writes can fail or block, and a LogBuffer that
// reads audit lines back.
package halttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/supervisor"
)

var (
	_ halt.Supervisor = (*Supervisor)(nil)
	_ halt.Latch      = (*Latch)(nil)
)

// ErrUnreachable is what a failing call of Supervisor wraps.
var ErrUnreachable = errors.New("dial unix /run/supervisor.sock: connect: connection refused")

// Proc is one process of Supervisor.
type Proc struct {
	Info       supervisor.ProcessInfo
	IgnoreTerm bool          // stays STOPPING after a stop until SIGKILL
	StopDelay  time.Duration // a stop reaches STOPPED after this long
	StopWait   int64         // stopwaitsecs
	// StoppedFirst: another hand (a second haltguard, a person) stops it
	// just before this stop arrives, which then finds it NOT_RUNNING.
	StoppedFirst bool

	StopCalledAt time.Time // last stopProcess call
	StoppedAt    time.Time // last transition to STOPPED
}

// Supervisor models the parts of supervisord the engine uses: states move as
// supervisord moves them on stopProcess, signalProcess and startProcess.
type Supervisor struct {
	mu          sync.Mutex
	procs       map[string]*Proc
	order       []string
	FailCalls   int   // the next n calls fail with ErrUnreachable
	NoMulticall bool  // system.multicall answers UNKNOWN_METHOD
	SignalErr   error // signalProcess fails with it
	Stops       []string
	Signals     []string
	Starts      []string
	Lists       int
	ConfigReads int
	States      int // getState calls: nudges
	// Daemon is what getState answers; the zero value is RUNNING.
	Daemon supervisor.State
}

// NewSupervisor returns a Supervisor without processes.
func NewSupervisor() *Supervisor { return &Supervisor{procs: map[string]*Proc{}} }

// Add adds the process full ("group:name") in state; running processes get
// a pid.
func (f *Supervisor) Add(full string, state supervisor.ProcessState, opts ...func(*Proc)) *Proc {
	group, name, _ := strings.Cut(full, ":")
	p := &Proc{Info: supervisor.ProcessInfo{Group: group, Name: name, State: state, StateName: state.String()}, StopWait: 10}
	if state.Running() {
		p.Info.PID = 1000 + len(f.order)
	}
	for _, o := range opts {
		o(p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.procs[full] = p
	f.order = append(f.order, full)
	return p
}

// IgnoreTerm makes a process ignore SIGTERM: it stays STOPPING after a stop
// until SIGKILL.
func IgnoreTerm(p *Proc) { p.IgnoreTerm = true }

func (f *Supervisor) fail() error {
	if f.FailCalls > 0 {
		f.FailCalls--
		return fmt.Errorf("supervisord unix:///run/supervisor.sock: call: %w", ErrUnreachable)
	}
	return nil
}

// SetState moves a process to state s, as supervisord would.
func (f *Supervisor) SetState(full string, s supervisor.ProcessState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setStateLocked(full, s)
}

func (f *Supervisor) setStateLocked(full string, s supervisor.ProcessState) {
	p := f.procs[full]
	p.Info.State, p.Info.StateName = s, s.String()
	switch {
	case s == supervisor.ProcessStarting || s == supervisor.ProcessRunning:
		if p.Info.PID == 0 {
			p.Info.PID = 5000 + len(f.Starts)
		}
	case !s.Running():
		p.Info.PID = 0
		p.Info.Stop = time.Now()
	}
	if s == supervisor.ProcessStopped {
		p.StoppedAt = time.Now()
	}
}

// AddStack adds the usual stack: risk_manager:risk_manager, n running
// processes trading:strat_00... (returned) and haltguard:haltguard.
func (f *Supervisor) AddStack(n int) []string {
	f.Add("risk_manager:risk_manager", supervisor.ProcessRunning)
	var names []string
	for i := range n {
		name := fmt.Sprintf("trading:strat_%02d", i)
		f.Add(name, supervisor.ProcessRunning)
		names = append(names, name)
	}
	f.Add("haltguard:haltguard", supervisor.ProcessRunning)
	return names
}

// AllStopped reports whether every named process is STOPPED.
func (f *Supervisor) AllStopped(names []string) bool {
	for _, n := range names {
		if f.State(n) != supervisor.ProcessStopped {
			return false
		}
	}
	return true
}

// List returns the process list, failing the test on an error.
func (f *Supervisor) List(t *testing.T) []supervisor.ProcessInfo {
	t.Helper()
	procs, err := f.GetAllProcessInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return procs
}

// StateCalls returns how many getState calls (nudges) were answered.
func (f *Supervisor) StateCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.States
}

// Proc returns the process full, to change how it behaves.
func (f *Supervisor) Proc(full string) *Proc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[full]
}

// State returns a process's state.
func (f *Supervisor) State(full string) supervisor.ProcessState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[full].Info.State
}

// GetState implements halt.Supervisor (a nudge).
func (f *Supervisor) GetState(context.Context) (supervisor.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return supervisor.State{}, err
	}
	f.States++
	if f.Daemon.Name != "" {
		return f.Daemon, nil
	}
	return supervisor.State{Code: supervisor.SupervisorRunning, Name: "RUNNING"}, nil
}

// GetAllProcessInfo implements halt.Supervisor.
func (f *Supervisor) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return nil, err
	}
	f.Lists++
	out := make([]supervisor.ProcessInfo, 0, len(f.order))
	for _, n := range f.order {
		out = append(out, f.procs[n].Info)
	}
	return out, nil
}

// StopProcess implements halt.Supervisor.
func (f *Supervisor) StopProcess(_ context.Context, name string, wait bool) error {
	f.mu.Lock()
	if err := f.fail(); err != nil {
		f.mu.Unlock()
		return err
	}
	err := f.stopLocked(name)
	f.mu.Unlock()
	for wait && err == nil && f.State(name) != supervisor.ProcessStopped {
		// supervisord answers a wait=true stop only once the process is down.
		time.Sleep(time.Millisecond)
	}
	return err
}

func (f *Supervisor) stopLocked(name string) error {
	p, ok := f.procs[name]
	if !ok {
		return &supervisor.Fault{Code: supervisor.FaultBadName, Name: "BAD_NAME", Detail: name}
	}
	f.Stops = append(f.Stops, name)
	p.StopCalledAt = time.Now()
	if p.StoppedFirst && p.Info.State.Running() {
		f.setStateLocked(name, supervisor.ProcessStopped)
	}
	switch p.Info.State {
	case supervisor.ProcessBackoff:
		f.setStateLocked(name, supervisor.ProcessStopped)
	case supervisor.ProcessStarting, supervisor.ProcessRunning:
		f.setStateLocked(name, supervisor.ProcessStopping)
		switch {
		case p.IgnoreTerm:
		case p.StopDelay > 0:
			time.AfterFunc(p.StopDelay, func() {
				f.mu.Lock()
				defer f.mu.Unlock()
				if p.Info.State == supervisor.ProcessStopping {
					f.setStateLocked(name, supervisor.ProcessStopped)
				}
			})
		default:
			f.setStateLocked(name, supervisor.ProcessStopped)
		}
	default:
		return &supervisor.Fault{Code: supervisor.FaultNotRunning, Name: "NOT_RUNNING", Detail: name}
	}
	return nil
}

// StartProcess implements halt.Supervisor.
func (f *Supervisor) StartProcess(_ context.Context, name string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return err
	}
	return f.startLocked(name)
}

func (f *Supervisor) startLocked(name string) error {
	p, ok := f.procs[name]
	if !ok {
		return &supervisor.Fault{Code: supervisor.FaultBadName, Name: "BAD_NAME", Detail: name}
	}
	if p.Info.State.Running() {
		return &supervisor.Fault{Code: supervisor.FaultAlreadyStarted, Name: "ALREADY_STARTED", Detail: name}
	}
	f.Starts = append(f.Starts, name)
	f.setStateLocked(name, supervisor.ProcessRunning)
	return nil
}

// SignalProcess implements halt.Supervisor.
func (f *Supervisor) SignalProcess(_ context.Context, name, sig string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return err
	}
	f.Signals = append(f.Signals, name+" "+sig)
	if f.SignalErr != nil {
		return f.SignalErr
	}
	p := f.procs[name]
	switch p.Info.State {
	case supervisor.ProcessStarting, supervisor.ProcessRunning, supervisor.ProcessStopping:
	default:
		return &supervisor.Fault{Code: supervisor.FaultNotRunning, Name: "NOT_RUNNING", Detail: name}
	}
	if sig == "KILL" {
		f.setStateLocked(name, supervisor.ProcessStopped)
	}
	return nil
}

// TailProcessStderrLog implements halt.Supervisor: a fixed panic line.
func (f *Supervisor) TailProcessStderrLog(_ context.Context, name string, _, _ int) (supervisor.Tail, error) {
	return supervisor.Tail{Data: "panic: " + name + " lost its broker session\n"}, nil
}

// Multicall implements halt.Supervisor: stopProcess, startProcess and
// getAllConfigInfo.
func (f *Supervisor) Multicall(_ context.Context, calls []supervisor.Call) ([]supervisor.CallResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return nil, err
	}
	if f.NoMulticall {
		return nil, &supervisor.Fault{Code: supervisor.FaultUnknownMethod, Name: "UNKNOWN_METHOD"}
	}
	out := make([]supervisor.CallResult, len(calls))
	for i, c := range calls {
		switch c.Method {
		case "supervisor.stopProcess":
			out[i].Err = f.stopLocked(c.Params[0].(string))
		case "supervisor.startProcess":
			out[i].Err = f.startLocked(c.Params[0].(string))
		case "supervisor.getAllConfigInfo":
			f.ConfigReads++
			var list []any
			for _, n := range f.order {
				p := f.procs[n]
				list = append(list, map[string]any{"name": p.Info.Name, "group": p.Info.Group, "stopwaitsecs": p.StopWait})
			}
			out[i].Value = list
		default:
			out[i].Err = &supervisor.Fault{Code: supervisor.FaultUnknownMethod, Name: "UNKNOWN_METHOD"}
		}
	}
	return out, nil
}

// StopCalls returns the names stopProcess was called with, in order.
func (f *Supervisor) StopCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Stops)
}

// Latch is an in-memory latch whose writes can fail or block.
type Latch struct {
	mu        sync.Mutex
	St        halt.LatchState
	GetErr    error         // Get fails with it when not nil
	SetErrs   int           // the next n Sets fail
	Block     chan struct{} // Set waits for it to close when not nil
	Sets      int
	Completed []string
}

// Get implements halt.Latch.
func (l *Latch) Get(context.Context) (halt.LatchState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.GetErr != nil {
		return halt.LatchState{}, l.GetErr
	}
	return l.St, nil
}

// Set implements halt.Latch; it fails SetErrs times, and waits for Block.
func (l *Latch) Set(ctx context.Context, rec halt.Record) error {
	l.mu.Lock()
	block := l.Block
	l.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Sets++
	if l.SetErrs > 0 {
		l.SetErrs--
		return errors.New("state /var/lib/superguard/state.db: disk I/O error")
	}
	l.St.Latched, l.St.Record = true, rec
	return nil
}

// Complete implements halt.Latch.
func (l *Latch) Complete(_ context.Context, traceID string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Completed = append(l.Completed, traceID)
	if l.St.Latched && l.St.Record.TraceID == traceID {
		l.St.Record.Completed = at
	}
	return nil
}

// Clear implements halt.Latch.
func (l *Latch) Clear(_ context.Context, by string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.St = halt.LatchState{ResumedAt: at, ResumedBy: by}
	return nil
}

// Current returns the latch as stored.
func (l *Latch) Current() halt.LatchState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.St
}

// LogBuffer is a goroutine-safe log sink with helpers to read audit lines.
type LogBuffer struct {
	testsupport.SyncBuffer
}

// Audits returns the audit lines with the given action.
func (b *LogBuffer) Audits(t *testing.T, action string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["message"] == "audit" && m["action"] == action {
			out = append(out, m)
		}
	}
	return out
}

// Eventually polls cond until it holds or the deadline passes.
func Eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testsupport.WaitFor(t, 10*time.Second, what, cond)
}

// Config is the engine configuration the halt tests share: risk_manager
// is critical, the group trading is the target, haltguard is itself, and
// targets get 300 ms to stop before SIGKILL.
func Config() halt.Config {
	return halt.Config{
		Critical:      []string{"risk_manager"},
		Targets:       []string{"trading"},
		VerifyTimeout: 300 * time.Millisecond,
		Self:          "haltguard:haltguard",
	}
}
