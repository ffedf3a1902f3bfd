package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/supervisor"
)

func TestFilter(t *testing.T) {
	event := func(name, payload string) *eventlistener.Event {
		t.Helper()
		ev, err := eventlistener.ParsePayload(name, payload)
		if err != nil {
			t.Fatal(err)
		}
		return &ev
	}
	var (
		exited   = event("PROCESS_STATE_EXITED", "processname:engine groupname:strategies from_state:RUNNING expected:0 pid:1")
		risk     = event("PROCESS_STATE_FATAL", "processname:risk_manager groupname:risk_manager from_state:BACKOFF")
		logLine  = event("PROCESS_LOG_STDOUT", "processname:feed_1 groupname:feeds pid:2 channel:stdout\nx")
		tick     = event("TICK_60", "when:60")
		added    = event("PROCESS_GROUP_ADDED", "groupname:strategies\n")
		remote   = event("REMOTE_COMMUNICATION", "type:t\nd")
		stateX   = event("PROCESS_STATEX", "")
		unknownP = event("FUTURE_EVENT", "processname:engine groupname:strategies")
	)
	all := []*eventlistener.Event{exited, risk, logLine, tick, added, remote, stateX, unknownP}
	tests := []struct {
		name              string
		events, processes []string
		want              []*eventlistener.Event
	}{
		{name: "no filter", want: all},
		{name: "EVENT is everything", events: []string{"EVENT"}, want: all},
		{name: "prefix at an underscore", events: []string{"PROCESS_STATE"}, want: []*eventlistener.Event{exited, risk}},
		{name: "exact names", events: []string{"TICK_60", "PROCESS_STATE_FATAL"}, want: []*eventlistener.Event{risk, tick}},
		{name: "TICK_6 is not a prefix of TICK_60", events: []string{"TICK_6"}, want: nil},
		{name: "bare name", processes: []string{"risk_manager"},
			want: []*eventlistener.Event{risk, tick, remote, stateX}},
		{name: "group:*", processes: []string{"strategies:*"},
			want: []*eventlistener.Event{exited, tick, added, remote, stateX, unknownP}},
		{name: "glob on the name", processes: []string{"feed_?"},
			want: []*eventlistener.Event{logLine, tick, remote, stateX}},
		{name: "glob on group:name", processes: []string{"fee*:feed_[0-9]"},
			want: []*eventlistener.Event{logLine, tick, remote, stateX}},
		{name: "both filters", events: []string{"PROCESS_STATE", "PROCESS_GROUP"}, processes: []string{"strategies:engine"},
			want: []*eventlistener.Event{exited, added}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFilter(Config{Events: tt.events, Processes: tt.processes})
			var got []*eventlistener.Event
			for _, ev := range all {
				if f.match(ev) {
					got = append(got, ev)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("matched %v, want %v", names(got), names(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("matched %v, want %v", names(got), names(tt.want))
				}
			}
		})
	}
}

func names(evs []*eventlistener.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.EventName+"("+ev.ProcessName()+")")
	}
	return out
}

// Reconciliation is filtered like events: an ungrouped program's group is
// its own name, also in the Go supervisord's dialect, which leaves it empty.
func TestReconcileFilter(t *testing.T) {
	procs := []supervisor.ProcessInfo{
		{Group: "strategies", Name: "engine"},
		{Group: "risk", Name: "risk"},
		{Group: "", Name: "web"},
	}
	tests := []struct {
		name      string
		processes []string
		want      []string
	}{
		{name: "no filter", want: []string{"strategies:engine", "risk:risk", "web"}},
		{name: "group:*", processes: []string{"strategies:*"}, want: []string{"strategies:engine"}},
		{name: "bare name", processes: []string{"web"}, want: []string{"web"}},
		{name: "empty group is the name", processes: []string{"web:web", "risk:*"}, want: []string{"risk:risk", "web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tp := &tap{log: zerolog.New(&buf), filter: newFilter(Config{Processes: tt.processes})}
			if err := tp.Reconcile(t.Context(), eventlistener.Reconciliation{Reason: "start", Processes: procs}); err != nil {
				t.Fatal(err)
			}
			var line struct {
				Processes []struct{ Name string }
			}
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			var got []string
			for _, p := range line.Processes {
				got = append(got, p.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("logged %v, want %v", got, tt.want)
			}
		})
	}
}
