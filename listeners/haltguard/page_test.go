package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/halt/halttest"
)

func TestPages(t *testing.T) {
	now := time.Now()
	fatal := halt.Record{Reason: "risk down", Trigger: "risk_manager:risk_manager", TriggerState: "FATAL", TraceID: "t-1", Since: now, By: "haltguard"}
	manual := halt.Record{Reason: "test", TraceID: "trace-1", Since: now, By: "cli:alice"}
	done := &halt.Result{Record: fatal, Stopped: []string{"trading:a"}, StopErrors: map[string]string{}, TriggerTail: "lost its broker session"}
	tests := []struct {
		name        string
		report      halt.Report
		wantKey     string
		wantKind    alert.Kind
		wantSource  string // prefix
		wantSummary string // substring
		wantDetails []string
		wantTail    string
	}{
		{name: "halt by a FATAL shares the FATAL's incident", report: halt.Report{Kind: halt.ReportHalt, Record: fatal, Result: done},
			wantKey: alert.Key("host1", "risk_manager:risk_manager", alert.CondFatal), wantKind: alert.Trigger, wantSource: "halt/t-1",
			wantSummary: "HALTED trading: risk_manager:risk_manager FATAL", wantDetails: []string{"stopped", "halt_duration_ms", "resume", "trigger", "latch"},
			wantTail: "lost its broker session"},
		{name: "killed and survivors", report: halt.Report{Kind: halt.ReportHalt, Record: fatal, Result: &halt.Result{Record: fatal,
			Killed: []string{"trading:stubborn"}, Survivors: []string{"trading:stubborn"}, StopErrors: map[string]string{}}},
			wantKey: alert.Key("host1", "risk_manager:risk_manager", alert.CondFatal), wantKind: alert.Trigger, wantSource: "halt/t-1",
			wantSummary: "HALT INCOMPLETE", wantDetails: []string{"killed", "survivors"}},
		{name: "supervisord shutting down", report: halt.Report{Kind: halt.ReportHalt, Record: fatal,
			Result: &halt.Result{Record: fatal, SupervisorDown: true, StopErrors: map[string]string{}}},
			wantKey: alert.Key("host1", "risk_manager:risk_manager", alert.CondFatal), wantKind: alert.Trigger, wantSource: "halt/t-1",
			wantSummary: "shutting down"},
		{name: "unreachable", report: halt.Report{Kind: halt.ReportUnreachable, Record: fatal, Err: errors.New("connection refused")},
			wantKey: alert.Key("host1", "risk_manager:risk_manager", alert.CondFatal), wantKind: alert.Trigger,
			wantSource: "halt-unreachable/t-1", wantSummary: "HALT NOT CARRIED OUT", wantDetails: []string{"error"}},
		{name: "finish with work to do", report: halt.Report{Kind: halt.ReportFinish, Record: fatal, Time: now, Result: done},
			wantKey: alert.Key("host1", "risk_manager:risk_manager", alert.CondFatal), wantKind: alert.Trigger, wantSource: "halt/t-1/finish/",
			wantTail: "lost its broker session"},
		{name: "enforce of a manual halt", report: halt.Report{Kind: halt.ReportEnforce, Record: manual, Time: now,
			Result: &halt.Result{Record: manual, Stopped: []string{"trading:strat_01"}, StopErrors: map[string]string{}}},
			wantKey: alert.Key("host1", "", alert.CondHalt), wantKind: alert.Trigger, wantSource: "enforce/trace-1/", wantSummary: "trading:strat_01"},
		{name: "resume resolves", report: halt.Report{Kind: halt.ReportResume, Record: fatal, Resume: halt.ResumeOptions{By: "alice"}},
			wantKey: alert.Key("host1", "risk_manager:risk_manager", alert.CondFatal), wantKind: alert.Resolve, wantSource: "resume/t-1",
			wantSummary: "Trading resumed by alice"},
		{name: "forced resume while the trigger is down keeps the incident open", report: halt.Report{Kind: halt.ReportResume, Record: fatal,
			Resume: halt.ResumeOptions{By: "alice", Force: true}, CriticalDown: []string{"risk_manager:risk_manager FATAL"}},
			wantKey: alert.Key("host1", "risk_manager:risk_manager", alert.CondFatal), wantKind: alert.Trigger, wantSource: "resume/t-1",
			wantSummary: "still down", wantDetails: []string{"critical_down_at_resume"}},
		{name: "automatic halt not by a FATAL", report: halt.Report{Kind: halt.ReportHalt,
			Record: halt.Record{Trigger: "risk:rm", TriggerState: "EXITED", TraceID: "t-2"}, Result: &halt.Result{StopErrors: map[string]string{}}},
			wantKey: "host1/risk:rm/halt", wantKind: alert.Trigger, wantSource: "halt/t-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := &fakePager{}
			p, err := newPages("host1", "https://wiki/kill-switch", sub, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			p.Page(context.Background(), tt.report)
			got := sub.all()
			if len(got) != 1 {
				t.Fatalf("%d alerts, want 1", len(got))
			}
			a := got[0]
			if a.Key != tt.wantKey || a.Kind != tt.wantKind || a.Severity != alert.Critical || a.Listener != listenerName ||
				a.TraceID != tt.report.Record.TraceID || a.Runbook != "https://wiki/kill-switch" {
				t.Errorf("alert %s %s %s %s trace %q, want key %s kind %s", a.Key, a.Kind, a.Severity, a.Listener, a.TraceID, tt.wantKey, tt.wantKind)
			}
			if !strings.HasPrefix(a.SourceID, tt.wantSource) || !strings.Contains(a.Summary, tt.wantSummary) || a.LogTail != tt.wantTail {
				t.Errorf("source %q summary %q tail %q", a.SourceID, a.Summary, a.LogTail)
			}
			for _, k := range tt.wantDetails {
				if a.Details[k] == "" {
					t.Errorf("details lack %q: %v", k, a.Details)
				}
			}
		})
	}
}

// TestPageRetriedUntilCommitted: a page the store refused (locked) is
// retried in the background until it is committed, never dropped.
func TestPageRetriedUntilCommitted(t *testing.T) {
	sub := &fakePager{fails: 2}
	logs := &halttest.LogBuffer{}
	p, err := newPages("host1", "", sub, zerolog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	rec := halt.Record{Reason: "drill", TraceID: "t-9", Since: time.Now(), By: "cli:alice"}
	p.Page(context.Background(), halt.Report{Kind: halt.ReportHalt, Record: rec,
		Result: &halt.Result{Record: rec, Stopped: []string{"trading:a"}, StopErrors: map[string]string{}}})
	p.Wait()
	if n := len(sub.all()); n != 1 {
		t.Fatalf("%d pages committed, want 1", n)
	}
	if got := len(logs.Audits(t, "page_failed")); got != 2 {
		t.Errorf("%d page_failed lines, want 2", got)
	}
	if c := logs.Audits(t, "page_committed"); len(c) != 1 || c[0]["attempt"] != float64(3) {
		t.Errorf("page_committed lines %v, want one at attempt 3", c)
	}
}
