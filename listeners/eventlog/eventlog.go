package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/logging"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Run runs the event tap on stdin/stdout (the protocol) and logs to stderr
// until stdin closes or ctx is cancelled.
func Run(ctx context.Context, cfg Config, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log, err := logging.New(stderr, "eventlog", cfg.LogLevel)
	if err != nil {
		return err
	}
	t := &tap{log: log, filter: newFilter(cfg), logEvents: log.GetLevel() <= zerolog.InfoLevel}
	opts := eventlistener.Options{Dialect: cfg.Dialect, Logger: log, StateFile: cfg.StateFile}
	if cfg.Supervisor.URL != "" {
		c, err := supervisor.New(cfg.Supervisor)
		if err != nil {
			return fmt.Errorf("supervisor client: %w", err)
		}
		defer c.Close()
		opts.Processes = c
		log.Debug().Str("supervisor", c.URL()).Msg("reconciling from supervisord on poolserial gaps")
	}
	return eventlistener.Run(ctx, stdin, stdout, t, opts)
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
		group := p.Group
		if group == "" { // the Go supervisord's dialect, as events are normalised
			group = p.Name
		}
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
