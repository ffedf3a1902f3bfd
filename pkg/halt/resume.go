package halt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/supervisor"
)

// ErrCriticalDown is returned (wrapped) by Resume when a critical program is
// not RUNNING and Force is not set: trading would run without it, and the
// safety net would halt again at once.
var ErrCriticalDown = errors.New("a critical program is not RUNNING")

// ResumeOptions says how to resume.
type ResumeOptions struct {
	By    string // who resumes, for the audit trail and the resolve
	Start bool   // start the targets back
	Force bool   // resume even though a critical program is not RUNNING (or its state cannot be read)
}

// ResumeResult is what Resume did.
type ResumeResult struct {
	Latch        LatchState        // the latch as it was before
	CriticalDown []string          // critical programs not RUNNING ("name STATE")
	Started      []string          // targets started back
	StartErrors  map[string]string // targets that failed to start
}

// Resume clears the latch and resolves the halt's incident, optionally
// starting the targets back. It refuses while a critical program is not
// RUNNING unless opts.Force.
func (e *Engine) Resume(ctx context.Context, opts ResumeOptions) (*ResumeResult, error) {
	if opts.By == "" {
		opts.By = "unknown"
	}
	st, err := e.Latched(ctx)
	if err != nil {
		return nil, fmt.Errorf("read halt latch: %w", err)
	}
	res := &ResumeResult{Latch: st, StartErrors: map[string]string{}}
	traceID := st.Record.TraceID
	if traceID == "" {
		traceID = alert.NewTraceID()
	}
	procs, err := e.ListProcesses(ctx)
	if err != nil {
		if !opts.Force {
			return res, fmt.Errorf("cannot check the critical programs (--force resumes without checking): %w", err)
		}
		e.log.Warn().Err(err).Msg("resume --force without the process list")
	}
	for _, p := range procs {
		if e.cfg.IsCritical(p) && p.State != supervisor.ProcessRunning {
			res.CriticalDown = append(res.CriticalDown, p.FullName()+" "+p.State.String())
		}
	}
	if len(res.CriticalDown) > 0 && !opts.Force {
		return res, fmt.Errorf("%w: %s (fix it first, or --force)", ErrCriticalDown, strings.Join(res.CriticalDown, ", "))
	}

	if st.Latched {
		if err := e.latch.Clear(ctx, opts.By, e.now()); err != nil {
			return res, fmt.Errorf("clear halt latch: %w", err)
		}
		e.dropPending(st.Record.TraceID)
		audit(e.log, zerolog.WarnLevel, traceID, "resume").Str("by", opts.By).Bool("start", opts.Start).
			Bool("force", opts.Force).Strs("critical_down", res.CriticalDown).Msg("audit")
		e.pager.Page(ctx, Report{Kind: ReportResume, Record: st.Record, Time: e.now(), Resume: opts, CriticalDown: res.CriticalDown})
	}
	if opts.Start {
		e.startTargets(ctx, traceID, procs, res)
	}
	return res, nil
}

// startTargets starts every target that is not running: one
// system.multicall of startProcess(name, false), which on a loaded host
// beats many concurrent requests competing for supervisord's
// single-threaded loop; one request per target where multicall is missing.
func (e *Engine) startTargets(ctx context.Context, traceID string, procs []supervisor.ProcessInfo, res *ResumeResult) {
	var names []string
	for _, p := range procs {
		if e.cfg.IsTarget(p) && !p.State.Running() {
			names = append(names, p.FullName())
		}
	}
	if len(names) == 0 {
		return
	}
	answers := e.fan.StartAll(ctx, names)
	for _, n := range names {
		err := answers[n]
		if supervisor.IsFault(err, supervisor.FaultAlreadyStarted) {
			err = nil
		}
		if err != nil {
			res.StartErrors[n] = err.Error()
		} else {
			res.Started = append(res.Started, n)
		}
		audit(e.log, zerolog.InfoLevel, traceID, "start").Str("process", n).AnErr("error", err).Msg("audit")
	}
	slices.Sort(res.Started)
}

// Status is the halt latch and the state of every target and critical
// program.
type Status struct {
	Latch    LatchState
	Critical []supervisor.ProcessInfo
	Targets  []supervisor.ProcessInfo
	// SupervisorErr is why the process states are missing, if they are.
	SupervisorErr error
}

// Status reads the latch and the process states. Only a failure to read the
// latch is an error: without supervisord the latch is still reported.
func (e *Engine) Status(ctx context.Context) (*Status, error) {
	st, err := e.Latched(ctx)
	if err != nil {
		return nil, fmt.Errorf("read halt latch: %w", err)
	}
	s := &Status{Latch: st}
	procs, err := e.ListProcesses(ctx)
	if err != nil {
		s.SupervisorErr = err
		return s, nil
	}
	for _, p := range procs {
		switch {
		case e.cfg.IsCritical(p):
			s.Critical = append(s.Critical, p)
		case e.cfg.IsTarget(p):
			s.Targets = append(s.Targets, p)
		}
	}
	return s, nil
}
