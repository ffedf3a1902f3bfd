package main

import (
	"fmt"
	"io"
	"time"

	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/operator"
)

// Snapshot is what `healthprobe status` shows: the running listener
// writes it after every round and every action.
type Snapshot struct {
	operator.Header
	Targets []TargetStatus `json:"targets"`
}

// TargetStatus is one check on one process.
type TargetStatus struct {
	Check     string    `json:"check"`
	Kind      string    `json:"kind"`
	Process   string    `json:"process"`
	PID       int       `json:"pid,omitempty"`
	State     State     `json:"state"`
	Failures  int       `json:"failures"`  // in the last Within probes
	Threshold int       `json:"threshold"` // failures that act
	Within    int       `json:"within"`
	Passes    int       `json:"passes"` // consecutive
	Successes int       `json:"successes"`
	Alerting  bool      `json:"alerting"`
	LastProbe time.Time `json:"last_probe,omitzero"`
	LastOK    bool      `json:"last_ok"`
	Evidence  string    `json:"evidence,omitempty"`
	Latency   string    `json:"latency,omitempty"`
	operator.Governed
	// AgeSeconds is the age of the data timestamp, file or heartbeat the
	// last probe saw (absent: none checked), for the exporter.
	AgeSeconds *float64  `json:"age_seconds,omitempty"`
	Started    time.Time `json:"started,omitzero"`
}

// snapshot builds the status. Called with e.mu held.
func (e *engine) snapshot() Snapshot {
	s := Snapshot{Header: operator.NewHeader(e.now(), e.rounds, e.supErr, e.latched, e.latchErr, e.redact)}
	for _, t := range e.sortedTargets() {
		cfg := t.check.cfg
		ts := TargetStatus{Check: cfg.Name, Kind: t.check.kind(), Process: t.proc.FullName(), PID: t.proc.PID,
			State: t.state, Failures: t.failures(), Threshold: cfg.Failures, Within: cfg.Within, Passes: t.passes,
			Successes: cfg.Successes, Alerting: t.open, LastProbe: t.last.At, LastOK: t.last.OK,
			Evidence: e.redact(t.last.Evidence), Started: t.start,
			Governed: operator.NewGoverned(e.redact(t.lastAction), t.actionAt, t.budget)}
		if t.last.Latency > 0 {
			ts.Latency = t.last.Latency.Round(time.Millisecond).String()
		}
		if t.last.Age != 0 {
			age := t.last.Age.Seconds()
			ts.AgeSeconds = &age
		}
		s.Targets = append(s.Targets, ts)
	}
	return s
}

// writeStatus replaces the snapshot file.
func (e *engine) writeStatus() { operator.Publish(e.log, e.status, &e.mu, e.snapshot) }

// printStatus writes the snapshot for people.
func printStatus(w io.Writer, s Snapshot, now time.Time) {
	s.Print(w, "healthprobe", now, "halted targets are not probed, nothing is restarted")
	if len(s.Targets) == 0 {
		fmt.Fprintln(w, "no process matches any check")
		return
	}
	tw := listener.Table(w, "CHECK\tPROCESS\tSTATE\tFAILED\tLAST EVIDENCE\tLAST ACTION\tRESTARTS")
	for _, t := range s.Targets {
		state := string(t.State)
		if t.State == StateFailing || t.State == StateUnhealthy {
			state = fmt.Sprintf("%s %d/%d", t.State, t.Failures, t.Threshold)
		}
		action := t.LastAction
		if action == "" {
			action = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d of %d\t%s\t%s\t%s\n", t.Check, t.Process, state, t.Failures, t.Within,
			operator.OrDash(operator.Clip(t.Evidence, 70)), operator.Clip(action, 90), operator.OrDash(t.Restarts))
	}
	_ = tw.Flush()
}
