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
	r := &rig{pager: &fakePager{}}
	h := halttest.NewRig(t, cfg, func(zerolog.Logger) (halt.Pager, error) { return r.pager, nil })
	r.sup, r.latch, r.logs, r.log, r.e = h.Sup, h.Latch, h.Logs, h.Log, h.Engine
	return r
}
