package main

import (
	"context"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/supervisor"
)

func TestLastExit(t *testing.T) {
	log := "2025-03-04 10:00:00,001 WARN exited: mm (exit status 1; not expected)\n" +
		"2025-03-04 10:00:00,101 INFO spawned: 'mm' with pid 7\n" +
		"2025-03-04 10:00:01,001 WARN exited: mm_b (exit status 4; not expected)\n" +
		"2025-03-04 10:00:02,001 WARN exited: mm (terminated by SIGSEGV (core dumped); not expected)\n" +
		"2025-03-04 10:00:03,001 INFO exited: ok (exit status 0; expected)"
	tests := []struct {
		process, want string
	}{
		{"mm", "terminated by SIGSEGV (core dumped)"},
		{"mm_b", "exit status 4"},
		{"ok", "exit status 0"},
		{"m", ""},
		{"other", ""},
	}
	for _, tt := range tests {
		t.Run(tt.process, func(t *testing.T) {
			if got := lastExit(log, tt.process); got != tt.want {
				t.Errorf("lastExit(%q) = %q, want %q", tt.process, got, tt.want)
			}
		})
	}
}

func TestExitStatusOf(t *testing.T) {
	tests := []struct {
		msg  string
		want int
		ok   bool
	}{
		{"exit status 3", 3, true},
		{"exit status 0", 0, true},
		{"terminated by SIGKILL", 0, false},
		{"exit status x", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			n, ok := exitStatusOf(tt.msg)
			if n != tt.want || ok != tt.ok {
				t.Errorf("exitStatusOf(%q) = %d, %v; want %d, %v", tt.msg, n, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCleanTail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		cut  bool
		want string
	}{
		{name: "whole log", in: "a\nb\n", want: "a\nb"},
		{name: "cut mid-line", in: "tial line\nfull line\n", cut: true, want: "full line"},
		{name: "cut single line kept", in: "only part", cut: true, want: "only part"},
		{name: "invalid utf-8", in: "bad \xff byte\n", want: "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanTail(tt.in, tt.cut); got != tt.want {
				t.Errorf("cleanTail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name        string
		noMulticall bool
		tails       map[string]string
		wantCalls   int
		wantTail    string
		wantExit    string
		wantErrs    int
	}{
		{name: "one round trip", tails: map[string]string{"strat:mm": "boom\n"}, wantCalls: 1,
			wantTail: "boom", wantExit: "exit status 2"},
		{name: "empty tail", tails: map[string]string{"strat:mm": ""}, wantCalls: 1, wantExit: "exit status 2"},
		{name: "no stderr log", wantCalls: 1, wantExit: "exit status 2", wantErrs: 1},
		{name: "without multicall", noMulticall: true, tails: map[string]string{"strat:mm": "boom\n"}, wantCalls: 3,
			wantTail: "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv := crasherSupervisor()
			sv.tails, sv.noMulticall = tt.tails, tt.noMulticall
			in := inspect(context.Background(), sv, "strat", "mm", 1024, true, time.Second)
			if sv.calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", sv.calls, tt.wantCalls)
			}
			if in.info == nil || in.info.State != supervisor.ProcessStarting || in.info.Description != "pid 12" {
				t.Errorf("info %+v", in.info)
			}
			if in.tail != tt.wantTail || in.exitMsg != tt.wantExit || len(in.errs) != tt.wantErrs {
				t.Errorf("tail %q exit %q errs %v; want %q %q and %d errors", in.tail, in.exitMsg, in.errs, tt.wantTail, tt.wantExit, tt.wantErrs)
			}
		})
	}
}
