package main

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/halt/halttest"
)

var _ alert.Submitter = (*fakePager)(nil)

// fakePager records submitted alerts.
type fakePager struct {
	alerts testsupport.Recorder[*alert.Alert]
	mu     sync.Mutex
	fails  int // the next n Submits fail, as with a locked store
}

func (p *fakePager) Submit(_ context.Context, a *alert.Alert) error {
	if err := a.Validate(); err != nil {
		return err
	}
	p.mu.Lock()
	fail := p.fails > 0
	if fail {
		p.fails--
	}
	p.mu.Unlock()
	if fail {
		return errors.New("state: begin: database is locked")
	}
	cp := *a
	p.alerts.Add(&cp)
	return nil
}

func (p *fakePager) all() []*alert.Alert { return p.alerts.All() }

// rig is an engine wired to fakes.
type rig struct {
	sup   *halttest.Supervisor
	latch *halttest.Latch
	pager *fakePager
	logs  *halttest.LogBuffer
	pages *pages
	e     *halt.Engine
}

func newRig(t *testing.T, cfg halt.Config) *rig {
	t.Helper()
	r := &rig{pager: &fakePager{}}
	h := halttest.NewRig(t, cfg, func(log zerolog.Logger) (halt.Pager, error) {
		var err error
		r.pages, err = newPages("host1", "", r.pager, log)
		return r.pages, err
	})
	r.sup, r.latch, r.logs, r.e = h.Sup, h.Latch, h.Logs, h.Engine
	return r
}
