package halt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/supervisor"
)

var (
	_ Supervisor = (*fakeSup)(nil)
	_ Supervisor = (*supervisor.Client)(nil)
	_ Latch      = (*fakeLatch)(nil)
	_ Pager      = (*fakePager)(nil)
)

var errUnreachable = errors.New("dial unix /run/supervisor.sock: connect: connection refused")

// fakeProc is one process of fakeSup.
type fakeProc struct {
	info       supervisor.ProcessInfo
	ignoreTerm bool          // stays STOPPING after a stop until SIGKILL
	stopDelay  time.Duration // a stop reaches STOPPED after this long
	stopWait   int64         // stopwaitsecs

	stopCalledAt time.Time // last stopProcess call
	stoppedAt    time.Time // last transition to STOPPED
}

// fakeSup models the parts of supervisord the engine uses: states move as
// supervisord moves them on stopProcess, signalProcess and startProcess.
type fakeSup struct {
	mu          sync.Mutex
	procs       map[string]*fakeProc
	order       []string
	failCalls   int   // the next n calls fail with errUnreachable
	noMulticall bool  // system.multicall answers UNKNOWN_METHOD
	signalErr   error // signalProcess fails with it
	stops       []string
	signals     []string
	starts      []string
	lists       int
	configReads int
	states      int // getState calls: nudges
}

func newFakeSup() *fakeSup { return &fakeSup{procs: map[string]*fakeProc{}} }

func (f *fakeSup) add(full string, state supervisor.ProcessState, opts ...func(*fakeProc)) *fakeProc {
	group, name, _ := strings.Cut(full, ":")
	p := &fakeProc{info: supervisor.ProcessInfo{Group: group, Name: name, State: state, StateName: state.String()}, stopWait: 10}
	if state.Running() {
		p.info.PID = 1000 + len(f.order)
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

func ignoreTerm(p *fakeProc) { p.ignoreTerm = true }

func (f *fakeSup) fail() error {
	if f.failCalls > 0 {
		f.failCalls--
		return fmt.Errorf("supervisord unix:///run/supervisor.sock: call: %w", errUnreachable)
	}
	return nil
}

func (f *fakeSup) setState(full string, s supervisor.ProcessState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setStateLocked(full, s)
}

func (f *fakeSup) setStateLocked(full string, s supervisor.ProcessState) {
	p := f.procs[full]
	p.info.State, p.info.StateName = s, s.String()
	switch {
	case s == supervisor.ProcessStarting || s == supervisor.ProcessRunning:
		if p.info.PID == 0 {
			p.info.PID = 5000 + len(f.starts)
		}
	case !s.Running():
		p.info.PID = 0
		p.info.Stop = time.Now()
	}
	if s == supervisor.ProcessStopped {
		p.stoppedAt = time.Now()
	}
}

func (f *fakeSup) state(full string) supervisor.ProcessState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[full].info.State
}

func (f *fakeSup) GetState(context.Context) (supervisor.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return supervisor.State{}, err
	}
	f.states++
	return supervisor.State{Code: supervisor.SupervisorRunning, Name: "RUNNING"}, nil
}

func (f *fakeSup) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return nil, err
	}
	f.lists++
	out := make([]supervisor.ProcessInfo, 0, len(f.order))
	for _, n := range f.order {
		out = append(out, f.procs[n].info)
	}
	return out, nil
}

func (f *fakeSup) StopProcess(_ context.Context, name string, wait bool) error {
	f.mu.Lock()
	if err := f.fail(); err != nil {
		f.mu.Unlock()
		return err
	}
	err := f.stopLocked(name)
	f.mu.Unlock()
	for wait && err == nil && f.state(name) != supervisor.ProcessStopped {
		// supervisord answers a wait=true stop only once the process is down.
		time.Sleep(time.Millisecond)
	}
	return err
}

func (f *fakeSup) stopLocked(name string) error {
	p, ok := f.procs[name]
	if !ok {
		return &supervisor.Fault{Code: supervisor.FaultBadName, Name: "BAD_NAME", Detail: name}
	}
	f.stops = append(f.stops, name)
	p.stopCalledAt = time.Now()
	switch p.info.State {
	case supervisor.ProcessBackoff:
		f.setStateLocked(name, supervisor.ProcessStopped)
	case supervisor.ProcessStarting, supervisor.ProcessRunning:
		f.setStateLocked(name, supervisor.ProcessStopping)
		switch {
		case p.ignoreTerm:
		case p.stopDelay > 0:
			time.AfterFunc(p.stopDelay, func() {
				f.mu.Lock()
				defer f.mu.Unlock()
				if p.info.State == supervisor.ProcessStopping {
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

func (f *fakeSup) StartProcess(_ context.Context, name string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return err
	}
	return f.startLocked(name)
}

func (f *fakeSup) startLocked(name string) error {
	p, ok := f.procs[name]
	if !ok {
		return &supervisor.Fault{Code: supervisor.FaultBadName, Name: "BAD_NAME", Detail: name}
	}
	if p.info.State.Running() {
		return &supervisor.Fault{Code: supervisor.FaultAlreadyStarted, Name: "ALREADY_STARTED", Detail: name}
	}
	f.starts = append(f.starts, name)
	f.setStateLocked(name, supervisor.ProcessRunning)
	return nil
}

func (f *fakeSup) SignalProcess(_ context.Context, name, sig string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return err
	}
	f.signals = append(f.signals, name+" "+sig)
	if f.signalErr != nil {
		return f.signalErr
	}
	p := f.procs[name]
	switch p.info.State {
	case supervisor.ProcessStarting, supervisor.ProcessRunning, supervisor.ProcessStopping:
	default:
		return &supervisor.Fault{Code: supervisor.FaultNotRunning, Name: "NOT_RUNNING", Detail: name}
	}
	if sig == "KILL" {
		f.setStateLocked(name, supervisor.ProcessStopped)
	}
	return nil
}

func (f *fakeSup) TailProcessStderrLog(_ context.Context, name string, _, _ int) (supervisor.Tail, error) {
	return supervisor.Tail{Data: "panic: " + name + " lost its broker session\n"}, nil
}

func (f *fakeSup) Multicall(_ context.Context, calls []supervisor.Call) ([]supervisor.CallResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail(); err != nil {
		return nil, err
	}
	if f.noMulticall {
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
			f.configReads++
			var list []any
			for _, n := range f.order {
				p := f.procs[n]
				list = append(list, map[string]any{"name": p.info.Name, "group": p.info.Group, "stopwaitsecs": p.stopWait})
			}
			out[i].Value = list
		default:
			out[i].Err = &supervisor.Fault{Code: supervisor.FaultUnknownMethod, Name: "UNKNOWN_METHOD"}
		}
	}
	return out, nil
}

func (f *fakeSup) stopCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.stops)
}

// fakeLatch is an in-memory latch whose writes can fail or block.
type fakeLatch struct {
	mu        sync.Mutex
	st        LatchState
	setErrs   int           // the next n Sets fail
	block     chan struct{} // Set waits for it to close when not nil
	sets      int
	completed []string
}

func (l *fakeLatch) Get(context.Context) (LatchState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st, nil
}

func (l *fakeLatch) Set(ctx context.Context, rec Record) error {
	l.mu.Lock()
	block := l.block
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
	l.sets++
	if l.setErrs > 0 {
		l.setErrs--
		return errors.New("state /var/lib/superguard/state.db: disk I/O error")
	}
	l.st.Latched, l.st.Record = true, rec
	return nil
}

func (l *fakeLatch) Complete(_ context.Context, traceID string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.completed = append(l.completed, traceID)
	if l.st.Latched && l.st.Record.TraceID == traceID {
		l.st.Record.Completed = at
	}
	return nil
}

func (l *fakeLatch) Clear(_ context.Context, by string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st = LatchState{ResumedAt: at, ResumedBy: by}
	return nil
}

func (l *fakeLatch) get() LatchState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

// fakePager records the engine's reports.
type fakePager struct {
	mu      sync.Mutex
	reports []Report
}

func (p *fakePager) Page(_ context.Context, r Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reports = append(p.reports, r)
}

func (p *fakePager) all() []Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.reports)
}

// logBuffer is a goroutine-safe log sink with helpers to read audit lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// audits returns the audit lines with the given action.
func (b *logBuffer) audits(t *testing.T, action string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
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

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// rig is an engine wired to fakes.
type rig struct {
	sup   *fakeSup
	latch *fakeLatch
	pager *fakePager
	logs  *logBuffer
	e     *Engine
}

func testConfig() Config {
	return Config{
		Critical:      []string{"risk_manager"},
		Targets:       []string{"trading"},
		VerifyTimeout: 300 * time.Millisecond,
		Self:          "haltguard:haltguard",
	}
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	r := &rig{sup: newFakeSup(), latch: &fakeLatch{}, pager: &fakePager{}, logs: &logBuffer{}}
	log := zerolog.New(r.logs).Level(zerolog.DebugLevel)
	e, err := New(cfg, Deps{Supervisor: r.sup, Latch: r.latch, Pager: r.pager, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("engine log:\n%s", r.logs)
		}
	})
	return r
}

// addStack adds risk_manager, n running trading processes and haltguard.
func (r *rig) addStack(n int) []string {
	r.sup.add("risk_manager:risk_manager", supervisor.ProcessRunning)
	var names []string
	for i := range n {
		name := fmt.Sprintf("trading:strat_%02d", i)
		r.sup.add(name, supervisor.ProcessRunning)
		names = append(names, name)
	}
	r.sup.add("haltguard:haltguard", supervisor.ProcessRunning)
	return names
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *rig) allStopped(targets []string) bool {
	for _, n := range targets {
		if r.sup.state(n) != supervisor.ProcessStopped {
			return false
		}
	}
	return true
}
