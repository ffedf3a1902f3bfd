package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// fakeSubmitter records committed alerts; it enforces the pipeline's
// idempotency rule (SourceID+Key) so tests see what the pipeline would keep,
// and fails on a done ctx as the pipeline's store transaction does.
type fakeSubmitter struct {
	mu     sync.Mutex
	alerts []*alert.Alert
	seen   map[string]bool
	err    error
}

var _ alert.Submitter = (*fakeSubmitter)(nil)

func (f *fakeSubmitter) Submit(ctx context.Context, a *alert.Alert) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	id := a.SourceID + "|" + a.Key
	if a.SourceID != "" && f.seen[id] {
		return nil
	}
	f.seen[id] = true
	f.alerts = append(f.alerts, a)
	return nil
}

// take returns and forgets the alerts recorded so far.
func (f *fakeSubmitter) take() []*alert.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.alerts
	f.alerts = nil
	return out
}

// summary renders alerts as "kind condition severity" lines for comparison.
func summary(as []*alert.Alert) string {
	var b strings.Builder
	for _, a := range as {
		b.WriteString(string(a.Kind) + " " + a.Process() + " " + string(a.Condition) + " " + a.Severity.String() + "\n")
	}
	return b.String()
}

// wantAlerts fails the test unless the alerts submitted since the last
// take are want, as summary writes them.
func (f *fixture) wantAlerts(t *testing.T, want string) {
	t.Helper()
	if got := summary(f.sub.take()); got != want {
		t.Fatalf("alerts:\n%swant:\n%s", got, want)
	}
}

// fakeSupervisor answers the XML-RPC calls crashpager makes from canned data.
type fakeSupervisor struct {
	mu      sync.Mutex
	infos   map[string]supervisor.ProcessInfo
	tails   map[string]string
	mainLog string
	delay   time.Duration // every call blocks this long (or until ctx ends)
	calls   int
	// noMulticall answers system.multicall with UNKNOWN_METHOD, like a
	// server without it.
	noMulticall bool
}

var _ Supervisor = (*fakeSupervisor)(nil)

func (f *fakeSupervisor) wait(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	d := f.delay
	f.mu.Unlock()
	if d == 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeSupervisor) GetProcessInfo(ctx context.Context, name string) (supervisor.ProcessInfo, error) {
	if err := f.wait(ctx); err != nil {
		return supervisor.ProcessInfo{}, err
	}
	return f.getProcessInfo(name)
}

func (f *fakeSupervisor) getProcessInfo(name string) (supervisor.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, ok := f.infos[name]
	if !ok {
		return info, &supervisor.Fault{Code: supervisor.FaultBadName, Name: "BAD_NAME", Detail: name}
	}
	return info, nil
}

func (f *fakeSupervisor) TailProcessStderrLog(ctx context.Context, name string, _, length int) (supervisor.Tail, error) {
	if err := f.wait(ctx); err != nil {
		return supervisor.Tail{}, err
	}
	return f.tail(name, length)
}

func (f *fakeSupervisor) tail(name string, length int) (supervisor.Tail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tails[name]
	if !ok {
		return supervisor.Tail{}, &supervisor.Fault{Code: supervisor.FaultNoFile, Name: "NO_FILE", Detail: name}
	}
	over := len(t) > length
	if over {
		t = t[len(t)-length:]
	}
	return supervisor.Tail{Data: t, Offset: len(t), Overflow: over}, nil
}

// Multicall answers like supervisord's system.multicall: raw XML-RPC
// values (structs as maps, ints as int64), faults inline.
func (f *fakeSupervisor) Multicall(ctx context.Context, calls []supervisor.Call) ([]supervisor.CallResult, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	noMulticall := f.noMulticall
	f.mu.Unlock()
	if noMulticall {
		return nil, &supervisor.Fault{Code: supervisor.FaultUnknownMethod, Name: "UNKNOWN_METHOD", Detail: "system.multicall"}
	}
	out := make([]supervisor.CallResult, len(calls))
	for i, c := range calls {
		switch c.Method {
		case "supervisor.getProcessInfo":
			info, err := f.getProcessInfo(c.Params[0].(string))
			if err != nil {
				out[i].Err = err
				continue
			}
			out[i].Value = map[string]any{
				"name": info.Name, "group": info.Group, "state": int64(info.State), "statename": info.State.String(),
				"exitstatus": int64(info.ExitStatus), "spawnerr": info.SpawnErr, "description": info.Description,
				"start": info.Start.Unix(), "now": info.Now.Unix(), "stop": int64(0), "pid": int64(info.PID),
			}
		case "supervisor.tailProcessStderrLog":
			t, err := f.tail(c.Params[0].(string), c.Params[2].(int))
			if err != nil {
				out[i].Err = err
				continue
			}
			var data any = t.Data
			if t.Data == "" {
				data = nil // what kolo/xmlrpc makes of an empty string
			}
			out[i].Value = []any{data, int64(t.Offset), t.Overflow}
		case "supervisor.readLog":
			f.mu.Lock()
			out[i].Value = f.mainLog
			f.mu.Unlock()
		default:
			out[i].Err = &supervisor.Fault{Code: supervisor.FaultUnknownMethod, Name: "UNKNOWN_METHOD"}
		}
	}
	return out, nil
}

// fakeHeartbeats is an in-memory heartbeat table.
type fakeHeartbeats struct {
	mu    sync.Mutex
	beats map[string]state.Heartbeat
	err   error
}

var _ Heartbeats = (*fakeHeartbeats)(nil)

func (f *fakeHeartbeats) Beat(_ context.Context, listener string, tick time.Time, pid int, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.beats == nil {
		f.beats = map[string]state.Heartbeat{}
	}
	f.beats[listener] = state.Heartbeat{Listener: listener, Tick: tick, PID: pid, UpdatedAt: now}
	return nil
}

func (f *fakeHeartbeats) Heartbeats(context.Context) ([]state.Heartbeat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []state.Heartbeat
	for _, h := range f.beats {
		out = append(out, h)
	}
	return out, nil
}

// clock is a manual clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var errStoreBroken = errors.New("database is locked")

// fixture is a crashes under test with its fakes.
type fixture struct {
	c   *crashes
	sub *fakeSubmitter
	sv  *fakeSupervisor
	hb  *fakeHeartbeats
	clk *clock
	log *testsupport.SyncBuffer
}

// newFixture builds crashes with cfg (defaults applied) and fakes. Pass a
// nil sv to run without supervisord.
func newFixture(t *testing.T, cfg Config, sv *fakeSupervisor) *fixture {
	t.Helper()
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	f := &fixture{sub: &fakeSubmitter{}, sv: sv, hb: &fakeHeartbeats{},
		clk: &clock{t: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)}, log: &testsupport.SyncBuffer{}}
	var s Supervisor
	if sv != nil {
		s = sv
	}
	c, err := newCrashes(cfg, crashesDeps{
		Host: "host1", Self: "crashpager", Submitter: f.sub, Supervisor: s, Heartbeats: f.hb,
		Now: f.clk.now, Logger: zerolog.New(f.log),
	})
	if err != nil {
		t.Fatalf("newCrashes: %v", err)
	}
	f.c = c
	return f
}

// state delivers a state change with a fresh source id.
func (f *fixture) state(group, name, from, to string, expected bool, pid int) {
	f.stateWithSource(newSource(), group, name, from, to, expected, pid)
}

func (f *fixture) stateWithSource(src, group, name, from, to string, expected bool, pid int) {
	f.c.handleState(context.Background(), stateChange{source: src, group: group, process: name,
		from: from, to: to, expected: expected, pid: pid})
}

func (f *fixture) tick() {
	f.c.tick(context.Background(), newSource())
}

var (
	srcMu sync.Mutex
	srcN  int
)

func newSource() string {
	srcMu.Lock()
	defer srcMu.Unlock()
	srcN++
	return "test/pool/" + strconv.Itoa(srcN)
}
