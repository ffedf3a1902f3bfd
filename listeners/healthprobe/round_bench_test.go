package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/probe"
	"github.com/superguard/superguard/pkg/supervisor"
)

// listSup is a supervisord stand-in for the in-process round benchmark:
// it lists n RUNNING processes and refuses everything else (a healthy
// round acts on nothing).
type listSup struct{ procs []supervisor.ProcessInfo }

func (l listSup) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	return l.procs, nil
}
func (listSup) StopProcess(context.Context, string, bool) error           { return fmt.Errorf("no") }
func (listSup) StartProcess(context.Context, string, bool) error          { return fmt.Errorf("no") }
func (listSup) SendRemoteCommEvent(context.Context, string, string) error { return fmt.Errorf("no") }

type nopAlerts struct{}

func (nopAlerts) Submit(context.Context, *alert.Alert) error { return nil }

// BenchmarkRoundCPU is the CPU of one round of 1,000 HTTP probes in
// process (a local server answering at once), for profiling: an op is a
// round, dispatch to the last result.
//
//	go test ./listeners/healthprobe -run '^$' -bench RoundCPU -cpuprofile cpu.out
func BenchmarkRoundCPU(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	var sup listSup
	start := time.Now().Add(-time.Hour)
	for i := range 1000 {
		sup.procs = append(sup.procs, supervisor.ProcessInfo{Group: "t", Name: fmt.Sprintf("t_%03d", i), State: supervisor.ProcessRunning, PID: 1000 + i, Start: start})
	}
	sec := sections.Healthprobe{Checks: []sections.ProbeCheck{{Name: "api", Processes: []string{"t:*"},
		HTTP: &sections.HTTPCheck{URL: "http://" + ln.Addr().String() + "/health/%(process_name)s"}}}}.WithDefaults()
	if err := sec.Validate(); err != nil {
		b.Fatal(err)
	}
	e := &engine{log: zerolog.Nop(), sup: sup, alerts: nopAlerts{}, redact: func(s string) string { return s },
		sem: make(chan struct{}, sec.Concurrency), status: b.TempDir() + "/status.json",
		bg: context.Background(), targets: map[string]*target{}, beats: map[string]*beat{}, gov: &governor.Governor{}}
	clock := time.Now()
	var mu sync.Mutex
	e.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	if e.checks, err = compileChecks(sec, probe.NewClient(), time.Now); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		mu.Lock()
		clock = clock.Add(sections.DefaultEvery)
		mu.Unlock()
		e.runRound(context.Background())
		e.wg.Wait()
	}
}
