package halt_test

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
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
	reports testsupport.Recorder[halt.Report]
}

func (p *fakePager) Page(_ context.Context, r halt.Report) { p.reports.Add(r) }

func (p *fakePager) all() []halt.Report { return p.reports.All() }

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
