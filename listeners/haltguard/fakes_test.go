package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/halt/halttest"
)

var _ submitter = (*fakePager)(nil)

// fakePager records submitted alerts.
type fakePager struct {
	mu     sync.Mutex
	alerts []*alert.Alert
	fails  int // the next n Submits fail, as with a locked store
}

func (p *fakePager) Submit(_ context.Context, a *alert.Alert) error {
	if err := a.Validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fails > 0 {
		p.fails--
		return errors.New("state: begin: database is locked")
	}
	cp := *a
	p.alerts = append(p.alerts, &cp)
	return nil
}

func (p *fakePager) all() []*alert.Alert {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.alerts)
}

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
	r := &rig{sup: halttest.NewSupervisor(), latch: &halttest.Latch{}, pager: &fakePager{}, logs: &halttest.LogBuffer{}}
	log := zerolog.New(r.logs).Level(zerolog.DebugLevel)
	p, err := newPages("host1", "", r.pager, log)
	if err != nil {
		t.Fatal(err)
	}
	r.pages = p
	e, err := halt.New(cfg, halt.Deps{Supervisor: r.sup, Latch: r.latch, Pager: p, Logger: log})
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
