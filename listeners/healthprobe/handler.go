package main

import (
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/proctable"
)

// newHandler acknowledges every event at once: rounds, probes and actions
// run in the background; a stdout heartbeat is recorded.
func newHandler(e *engine) *proctable.Handler {
	return &proctable.Handler{Table: e.table, Tick: e.tick,
		Other: func(ev *eventlistener.Event) {
			if ev.Comm == nil || ev.Comm.Channel != "stdout" {
				return
			}
			group := ev.Comm.Group
			if group == "" {
				group = ev.Comm.Process
			}
			e.heartbeat(group+":"+ev.Comm.Process, ev.Comm.PID, e.now())
		},
		Wait: func() {
			e.wg.Wait()
			if e.notify != nil {
				e.notify.close()
			}
		}}
}
