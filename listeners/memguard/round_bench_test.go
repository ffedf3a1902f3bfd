package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/procstat"
	"github.com/superguard/superguard/pkg/proctable"
	"github.com/superguard/superguard/pkg/supervisor"
)

// listSup is a supervisord whose table is fixed.
type listSup struct {
	fakeSup
	procs []supervisor.ProcessInfo
}

func (l *listSup) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	return l.procs, nil
}

// BenchmarkRoundInProcess is one round of the engine over 200 shells with
// two children each, in this process (for profiles: -cpuprofile); the
// table is a fixed list, so no XML-RPC is measured.
//
//	go test -run '^$' -bench RoundInProcess -cpuprofile /tmp/cpu.out ./listeners/memguard
func BenchmarkRoundInProcess(b *testing.B) {
	const n = 200
	sup := &listSup{}
	for i := range n {
		cmd := exec.Command("/bin/sh", "-c", "sleep 3600 & sleep 3600 & wait")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_ = exec.Command("pkill", "-KILL", "-P", fmt.Sprint(cmd.Process.Pid)).Run()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		sup.procs = append(sup.procs, supervisor.ProcessInfo{Group: "t", Name: fmt.Sprintf("t_%03d", i), PID: cmd.Process.Pid, State: supervisor.ProcessRunning})
	}
	sec := sections.Memguard{
		Limits: []sections.MemLimit{{Processes: []string{"*"}, Max: 2 << 30}},
		CPU:    []sections.CPUGuard{{Processes: []string{"*"}, Max: 0.9}},
		FDs:    []sections.FDGuard{{Processes: []string{"*"}, Max: 0.8}},
	}.WithDefaults()
	reader, err := procstat.New("", "")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	e := &engine{log: zerolog.Nop(), sup: sup, alerts: &recAlerts{}, cfg: sec, reader: reader, host: "h",
		redact: func(s string) string { return s }, now: time.Now, bg: context.Background(), procs: map[string]*watched{},
		table: &proctable.Table{Sup: sup}, status: filepath.Join(dir, "memguard.status.json"), statePath: filepath.Join(dir, "state.db")}
	e.gov = &governor.Governor{Store: &memStore{}, Budget: sec.Budget.Governor()}
	time.Sleep(200 * time.Millisecond) // the shells start their children
	e.runRound(context.Background())
	b.ResetTimer()
	for b.Loop() {
		e.runRound(context.Background())
	}
}
