package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/supervisor"
	"github.com/superguard/superguard/pkg/trend"
)

// fakeSup is supervisord as an action sees it.
type fakeSup struct {
	mu    sync.Mutex
	info  supervisor.ProcessInfo
	err   error // of GetProcessInfo
	fail  error // of the calls that act
	calls []string
}

func (f *fakeSup) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	return []supervisor.ProcessInfo{f.info}, nil
}
func (f *fakeSup) GetProcessInfo(context.Context, string) (supervisor.ProcessInfo, error) {
	return f.info, f.err
}
func (f *fakeSup) record(c string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	return f.fail
}
func (f *fakeSup) StopProcess(_ context.Context, n string, _ bool) error {
	return f.record("stop " + n)
}
func (f *fakeSup) StartProcess(_ context.Context, n string, _ bool) error {
	return f.record("start " + n)
}
func (f *fakeSup) SendRemoteCommEvent(_ context.Context, typ, data string) error {
	return f.record("remote " + typ + " " + data)
}

type recAlerts struct {
	testsupport.Recorder[*alert.Alert]
}

func (r *recAlerts) Submit(_ context.Context, a *alert.Alert) error { r.Add(a); return nil }

// memStore is the governor's store in memory.
type memStore struct {
	mu sync.Mutex
	at []time.Time
	// err fails every read (an unreadable store).
	err error
}

func (m *memStore) Restarts(context.Context, string, time.Time) ([]time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]time.Time(nil), m.at...), m.err
}
func (m *memStore) RecordRestart(_ context.Context, _ string, at time.Time, _ time.Duration) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.at = append(m.at, at)
	return len(m.at), nil
}

func newEngine(t *testing.T, limit sections.MemLimit) (*engine, *fakeSup, *recAlerts, *memStore) {
	t.Helper()
	sec := sections.Memguard{Limits: []sections.MemLimit{limit}, Host: sections.HostGuard{Off: true}}.WithDefaults()
	if err := sec.Validate(); err != nil {
		t.Fatal(err)
	}
	sup := &fakeSup{info: supervisor.ProcessInfo{Group: "trading", Name: "mm", PID: 42, State: supervisor.ProcessRunning}}
	rec, st := &recAlerts{}, &memStore{}
	e := &engine{log: zerolog.Nop(), sup: sup, alerts: rec, cfg: sec, host: "h", redact: func(s string) string { return s },
		now: time.Now, bg: context.Background(), procs: map[string]*watched{}}
	e.gov = &governor.Governor{Store: st, Budget: sec.Budget.Governor()}
	return e, sup, rec, st
}

func over(e *engine, pid int, v int64) *watched {
	w := &watched{name: "trading:mm", group: "trading", proc: "mm", pid: pid, limit: 0, cpu: -1, fds: -1, state: StateOK,
		series: trend.New(time.Hour)}
	w.value, w.measure = v, sections.MeasureTreeRSS
	e.procs[w.name] = w
	return w
}

// errLister fails every read of the table after the first.
type errLister struct {
	listSup
	reads int
}

func (l *errLister) GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error) {
	l.reads++
	if l.reads > 1 {
		return nil, errors.New("dial unix /run/supervisor.sock: connect: connection refused")
	}
	return l.listSup.GetAllProcessInfo(ctx)
}
