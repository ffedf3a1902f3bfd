package proctable

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/supervisor"
)

type lister struct {
	procs []supervisor.ProcessInfo
	err   error
	reads int
}

func (l *lister) GetAllProcessInfo(context.Context) ([]supervisor.ProcessInfo, error) {
	l.reads++
	return append([]supervisor.ProcessInfo(nil), l.procs...), l.err
}

func TestTable(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	l := &lister{procs: []supervisor.ProcessInfo{{Group: "trading", Name: "mm", State: supervisor.ProcessRunning, PID: 10}}}
	tb := &Table{Sup: l, Now: func() time.Time { return now }}
	ctx := context.Background()
	if p, err := tb.Processes(ctx); err != nil || len(p) != 1 || l.reads != 1 {
		t.Fatalf("first round: %v %v reads %d", p, err, l.reads)
	}
	// An event between two reads changes the table without a read.
	now = now.Add(5 * time.Second)
	tb.Changed("trading", "mm", "RUNNING", 11)
	p, _ := tb.Processes(ctx)
	if l.reads != 1 || p[0].PID != 11 || !p[0].Start.Equal(now) {
		t.Errorf("after the event: %+v reads %d", p[0], l.reads)
	}
	// The caller's slice is its own.
	p[0].PID = 99
	if p, _ := tb.Processes(ctx); p[0].PID != 11 {
		t.Error("the table shares its slice")
	}
	// An unknown process forces a read at the next round.
	tb.Changed("new", "x", "STARTING", 0)
	tb.Processes(ctx)
	tb.Processes(ctx)
	if l.reads != 2 {
		t.Errorf("reads %d after an unknown process; want 2", l.reads)
	}
	// Every: a read once the period passed; Relist: at once.
	now = now.Add(DefaultEvery)
	tb.Processes(ctx)
	tb.Relist()
	tb.Processes(ctx)
	if l.reads != 4 {
		t.Errorf("reads %d; want 4", l.reads)
	}
	// A failed read keeps the table with the events applied.
	l.err = errors.New("connection refused")
	tb.Relist()
	tb.Changed("trading", "mm", "EXITED", 11)
	p, err := tb.Processes(ctx)
	if err == nil || len(p) != 1 || p[0].State != supervisor.ProcessExited {
		t.Errorf("failed read: %+v %v", p, err)
	}
	tb.Changed("trading", "mm", "NOT_A_STATE", 1)
	if len(tb.q) != 0 {
		t.Error("an unknown state was queued")
	}
}
