package durable

import (
	"context"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
)

// beatTimeout bounds the heartbeat write done on each TICK.
const beatTimeout = 500 * time.Millisecond

// heartbeat records the listener's heartbeat (the last TICK it handled) in
// the state store, for crashpager's watch of the watchers, after the
// wrapped handler has handled the TICK. A failure is logged: it must not
// stall the event loop.
type heartbeat struct {
	inner eventlistener.Handler
	store *Store
	name  string
	log   zerolog.Logger
	// dropped counts the events supervisord dropped before reaching this
	// listener (poolserial gaps) not yet added to its heartbeat record.
	dropped int64
}

var (
	_ listener.Drainer = (*heartbeat)(nil)
	_ listener.Stopper = (*heartbeat)(nil)
)

// reconcilingHeartbeat is heartbeat over a handler that reconciles.
type reconcilingHeartbeat struct {
	*heartbeat
	eventlistener.Reconciler
}

// withHeartbeat wraps h, keeping its optional interfaces reachable.
func withHeartbeat(h eventlistener.Handler, store *Store, name string, log zerolog.Logger) eventlistener.Handler {
	hb := &heartbeat{inner: h, store: store, name: name, log: log}
	if r, ok := h.(eventlistener.Reconciler); ok {
		return reconcilingHeartbeat{heartbeat: hb, Reconciler: r}
	}
	return hb
}

// HandleEvent implements eventlistener.Handler.
func (h *heartbeat) HandleEvent(ctx context.Context, ev *eventlistener.Event) error {
	err := h.inner.HandleEvent(ctx, ev)
	if ev.Missed > 0 && !ev.Redelivered {
		h.dropped += ev.Missed
	}
	if ev.Tick != nil {
		h.beat(ctx, ev.Tick.When)
	}
	return err
}

func (h *heartbeat) beat(ctx context.Context, tick time.Time) {
	ctx, cancel := context.WithTimeout(ctx, beatTimeout)
	defer cancel()
	s, err := h.store.Get(ctx)
	if err == nil {
		if err = s.BeatDropped(ctx, h.name, tick, os.Getpid(), time.Now(), h.dropped); err == nil {
			h.dropped = 0
		}
	}
	if err != nil {
		h.log.Error().Err(err).Msg("record heartbeat")
	}
}

// Drain implements listener.Drainer.
func (h *heartbeat) Drain() {
	if d, ok := h.inner.(listener.Drainer); ok {
		d.Drain()
	}
}

// Stop implements listener.Stopper.
func (h *heartbeat) Stop() {
	if s, ok := h.inner.(listener.Stopper); ok {
		s.Stop()
	}
}
