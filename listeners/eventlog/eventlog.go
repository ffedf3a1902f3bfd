package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// newTap builds the tap: it logs at info, so a quieter level skips the
// filter too.
func newTap(env *listener.Env, c Config) *tap {
	return &tap{log: env.Log, filter: newFilter(c), logEvents: env.Log.GetLevel() <= zerolog.InfoLevel}
}

// tap logs the events that pass its filter, and reconciliations.
type tap struct {
	log       zerolog.Logger
	filter    filter
	logEvents bool // events are logged at info: false skips the filter too
}

var (
	_ eventlistener.Handler    = (*tap)(nil)
	_ eventlistener.Reconciler = (*tap)(nil)
)

// HandleEvent logs ev as one JSON line with message "event".
func (t *tap) HandleEvent(_ context.Context, ev *eventlistener.Event) error {
	if t.logEvents && t.filter.match(ev) {
		t.log.Info().EmbedObject(ev).Msg("event")
	}
	return nil
}

// Reconcile logs the state of every process that passes the process filter.
func (t *tap) Reconcile(_ context.Context, r eventlistener.Reconciliation) error {
	procs := zerolog.Arr()
	n := 0
	for _, p := range r.Processes {
		group := p.GroupName()
		if len(t.filter.processes) > 0 && !procmatch.Any(t.filter.processes, group, p.Name) {
			continue
		}
		n++
		procs.Object(processObject(p))
	}
	t.log.Info().Str("reason", r.Reason).Str("pool", r.Pool).Int64("missed", r.Missed).
		Int("count", n).Array("processes", procs).Msg("reconciliation")
	return nil
}

// processObject logs one process of a reconciliation.
type processObject supervisor.ProcessInfo

func (p processObject) MarshalZerologObject(z *zerolog.Event) {
	info := supervisor.ProcessInfo(p)
	z.Str("name", info.FullName()).Str("state", info.State.String())
	if info.PID != 0 {
		z.Int("pid", info.PID)
	}
	if info.State == supervisor.ProcessExited {
		z.Int("exit_status", info.ExitStatus)
	}
	if info.SpawnErr != "" {
		z.Str("spawnerr", info.SpawnErr)
	}
	if info.Description != "" {
		z.Str("description", info.Description)
	}
}
