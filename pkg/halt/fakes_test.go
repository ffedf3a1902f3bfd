package halt_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/halt/halttest"
	"github.com/superguard/superguard/pkg/supervisor"
)

var (
	_ halt.Supervisor = (*supervisor.Client)(nil)
	_ halt.Pager      = (*fakePager)(nil)
)

// fakePager records the engine's reports.
type fakePager struct {
	mu      sync.Mutex
	reports []halt.Report
}

func (p *fakePager) Page(_ context.Context, r halt.Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reports = append(p.reports, r)
}

func (p *fakePager) all() []halt.Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.reports)
}

// rig is an engine wired to fakes.
type rig struct {
	sup   *halttest.Supervisor
	latch *halttest.Latch
	pager *fakePager
	logs  *halttest.LogBuffer
	log   zerolog.Logger
	e     *halt.Engine
}

func newRig(t *testing.T, cfg halt.Config) *rig {
	t.Helper()
	r := &rig{sup: halttest.NewSupervisor(), latch: &halttest.Latch{}, pager: &fakePager{}, logs: &halttest.LogBuffer{}}
	r.log = zerolog.New(r.logs).Level(zerolog.DebugLevel)
	e, err := halt.New(cfg, halt.Deps{Supervisor: r.sup, Latch: r.latch, Pager: r.pager, Logger: r.log})
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
