package halttest

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/halt"
)

// Rig is a halt engine wired to fakes: a Supervisor, a Latch, and a debug
// log in Logs that is printed when the test fails.
type Rig struct {
	Sup    *Supervisor
	Latch  *Latch
	Logs   *LogBuffer
	Log    zerolog.Logger
	Engine *halt.Engine
}

// NewRig builds an engine with cfg on fresh fakes; pager builds its Pager
// with the engine's logger.
func NewRig(tb testing.TB, cfg halt.Config, pager func(zerolog.Logger) (halt.Pager, error)) *Rig {
	tb.Helper()
	r := &Rig{Sup: NewSupervisor(), Latch: &Latch{}, Logs: &LogBuffer{}}
	r.Log = zerolog.New(r.Logs).Level(zerolog.DebugLevel)
	p, err := pager(r.Log)
	if err != nil {
		tb.Fatal(err)
	}
	if r.Engine, err = halt.New(cfg, halt.Deps{Supervisor: r.Sup, Latch: r.Latch, Pager: p, Logger: r.Log}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("engine log:\n%s", r.Logs)
		}
	})
	return r
}
