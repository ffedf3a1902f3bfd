package eventlog

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/supervisor"
)

const nonASCII = "prix 42 € – 株価 ✓"

// TestEventFamilies: eventlog, subscribed to every event, receives and
// parses each family real supervisord 4.2.5 sends, from programs and
// XML-RPC calls that provoke them, and stays in sync throughout: its
// poolserials are consecutive, nothing is re-sent, and it logs no warning.
// (TICK_60 and TICK_3600 come from captured transcripts in
// pkg/eventlistener's golden tests instead of an hour of waiting.)
func TestEventFamilies(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{
		Files: map[string]string{"conf.d/.keep": ""},
		Sections: `
[include]
files = {{.Dir}}/conf.d/*.conf
` + harness.Listener{Name: "eventlog", Command: `{{bin "` + eventlogPkg + `"}} -state-file {{.Dir}}/eventlog.state`, Events: "EVENT"}.Section() + `
[program:talker]
command={{bin "` + fakePkg + `"}} -heartbeat 300ms -log-text "` + nonASCII + `" -log-every 300ms -log-stream both
stdout_events_enabled=true
stderr_events_enabled=true
stdout_capture_maxbytes=1MB
stdout_logfile={{.Dir}}/talker.out
stderr_logfile={{.Dir}}/talker.err
stopwaitsecs=5

[program:garbler]
command={{bin "` + fakePkg + `"}} -log-text "raw bytes:" -log-invalid-utf8
stdout_events_enabled=true
stdout_logfile={{.Dir}}/garbler.out
stderr_logfile={{.Dir}}/garbler.err

[program:exiter]
command={{bin "` + fakePkg + `"}} -exit-after 1500ms -exit-code 3
startsecs=1
autorestart=false
stderr_logfile={{.Dir}}/exiter.err

[program:fatal]
command={{bin "` + fakePkg + `"}} -exit-after 1ms -exit-code 4
startsecs=1
startretries=1
stderr_logfile={{.Dir}}/fatal.err
`})

	// Provoke what the programs do not do on their own.
	if err := s.Client.SendRemoteCommEvent(ctx(t), "superguard.test", "données ✓ 42"); err != nil {
		t.Fatal(err)
	}
	late := "[program:late]\ncommand=sleep 1000\nstartsecs=0\nstderr_logfile=" + s.Path("late.err") + "\n"
	if err := os.WriteFile(s.Path("conf.d", "late.conf"), []byte(late), 0o600); err != nil {
		t.Fatal(err)
	}
	multicall(t, s, supervisor.Call{Method: "supervisor.reloadConfig"}, supervisor.Call{Method: "supervisor.addProcessGroup", Params: []any{"late"}})
	s.WaitProcessState(t, "late", supervisor.ProcessRunning, wait)
	if err := s.Client.StopProcess(ctx(t), "late", true); err != nil {
		t.Fatal(err)
	}
	multicall(t, s, supervisor.Call{Method: "supervisor.removeProcessGroup", Params: []any{"late"}})
	s.WaitProcessState(t, "exiter", supervisor.ProcessExited, wait)
	s.WaitProcessState(t, "fatal", supervisor.ProcessFatal, wait)
	s.WaitProcessState(t, "talker", supervisor.ProcessRunning, wait)
	if err := s.Client.StopProcess(ctx(t), "talker", true); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	logs := func(text string) func(line) bool {
		return func(l line) bool { return l.Log != nil && strings.Contains(l.Log.Data, text) }
	}
	group := func(name string) func(line) bool {
		return func(l line) bool { return l.Group != nil && l.Group.Group == name }
	}
	tests := []struct {
		name    string
		event   string
		process string
		match   func(line) bool // further narrows the lines to check (nil = any)
		check   func(t *testing.T, l line)
	}{
		{"supervisor running", "SUPERVISOR_STATE_CHANGE_RUNNING", "", nil, func(t *testing.T, l line) {
			if l.Supervisor == nil || l.Supervisor.State != "RUNNING" {
				t.Errorf("supervisor = %+v", l.Supervisor)
			}
		}},
		{"starting", "PROCESS_STATE_STARTING", "talker", nil, func(t *testing.T, l line) {
			wantState(t, l, "talker", "talker", "STOPPED", "STARTING")
		}},
		{"running", "PROCESS_STATE_RUNNING", "talker", nil, func(t *testing.T, l line) {
			wantState(t, l, "talker", "talker", "STARTING", "RUNNING")
			if l.State.PID <= 0 {
				t.Errorf("RUNNING without pid: %s", l)
			}
		}},
		{"exited unexpectedly", "PROCESS_STATE_EXITED", "exiter", nil, func(t *testing.T, l line) {
			wantState(t, l, "exiter", "exiter", "RUNNING", "EXITED")
			if l.State.Expected == nil || *l.State.Expected || l.State.PID <= 0 {
				t.Errorf("EXITED want expected:false and a pid: %s", l)
			}
		}},
		{"backoff", "PROCESS_STATE_BACKOFF", "fatal", nil, func(t *testing.T, l line) {
			wantState(t, l, "fatal", "fatal", "STARTING", "BACKOFF")
			if l.State.Tries < 1 {
				t.Errorf("BACKOFF without tries: %s", l)
			}
		}},
		{"fatal from a program that exits at once", "PROCESS_STATE_FATAL", "fatal", nil, func(t *testing.T, l line) {
			wantState(t, l, "fatal", "fatal", "BACKOFF", "FATAL")
			if l.State.PID != 0 || l.State.Expected != nil {
				t.Errorf("FATAL carries neither pid nor expected: %s", l)
			}
		}},
		{"stopping", "PROCESS_STATE_STOPPING", "talker", nil, func(t *testing.T, l line) {
			wantState(t, l, "talker", "talker", "RUNNING", "STOPPING")
		}},
		{"stopped", "PROCESS_STATE_STOPPED", "talker", nil, func(t *testing.T, l line) {
			wantState(t, l, "talker", "talker", "STOPPING", "STOPPED")
		}},
		{"log stdout non-ASCII", "PROCESS_LOG_STDOUT", "talker", logs(nonASCII), func(t *testing.T, l line) {
			// The newline after a heartbeat's END token joins the next line.
			wantOutput(t, l.Log, "talker", "stdout", strings.TrimPrefix(l.Log.Data, "\n"), nonASCII+"\n")
		}},
		{"log stderr non-ASCII", "PROCESS_LOG_STDERR", "talker", logs(nonASCII), func(t *testing.T, l line) {
			wantOutput(t, l.Log, "talker", "stderr", l.Log.Data, nonASCII+"\n")
		}},
		{"log stdout invalid UTF-8", "PROCESS_LOG_STDOUT", "garbler", logs("raw bytes:"), func(t *testing.T, l line) {
			// supervisord 4.2.5 cannot decode it and sends a Python repr instead.
			if l.Log == nil || !strings.HasPrefix(l.Log.Data, "Undecodable: b'raw bytes:") {
				t.Errorf("log = %+v, want supervisord's Undecodable text", l.Log)
			}
		}},
		{"heartbeat", "PROCESS_COMMUNICATION_STDOUT", "talker", nil, func(t *testing.T, l line) {
			if l.Comm == nil || l.Comm.Process != "talker" || l.Comm.Channel != "stdout" || l.Comm.PID <= 0 {
				t.Fatalf("comm = %+v", l.Comm)
			}
			var hb struct {
				Type string `json:"type"`
				Name string `json:"name"`
				Seq  int    `json:"seq"`
			}
			if err := json.Unmarshal([]byte(l.Comm.Data), &hb); err != nil || hb.Type != "heartbeat" || hb.Name != "talker" || hb.Seq < 1 {
				t.Errorf("heartbeat data %q: %+v, %v", l.Comm.Data, hb, err)
			}
		}},
		{"remote communication", "REMOTE_COMMUNICATION", "", nil, func(t *testing.T, l line) {
			if l.Remote == nil || l.Remote.Type != "superguard.test" || l.Remote.Data != "données ✓ 42" {
				t.Errorf("remote = %+v", l.Remote)
			}
		}},
		{"group added", "PROCESS_GROUP_ADDED", "", group("late"), func(t *testing.T, l line) {
			if l.Group == nil || l.Group.Group != "late" || !l.Group.Added {
				t.Errorf("group = %+v", l.Group)
			}
		}},
		{"group removed", "PROCESS_GROUP_REMOVED", "", group("late"), func(t *testing.T, l line) {
			if l.Group == nil || l.Group.Group != "late" || l.Group.Added {
				t.Errorf("group = %+v", l.Group)
			}
		}},
		{"tick 5", "TICK_5", "", nil, func(t *testing.T, l line) {
			if l.Tick == nil || l.Tick.Period != 5 || l.Tick.When.Unix()%5 != 0 ||
				l.Tick.When.Before(start.Add(-time.Minute)) || l.Tick.When.After(time.Now()) {
				t.Errorf("tick = %+v", l.Tick)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := isEvent(tt.event, tt.process)
			keep := func(l line) bool { return is(l) && (tt.match == nil || tt.match(l)) }
			_, matched := events(t, s, "eventlog", 1, tt.event+" "+tt.process, keep)
			l := matched[0]
			if l.Pool != "eventlog" || l.Server != "superguard-harness" || l.Attempt != 1 || l.Serial < 0 {
				t.Errorf("header fields: %s", l)
			}
			tt.check(t, l)
		})
	}

	t.Run("in sync throughout", func(t *testing.T) {
		all := parseLines(t, s.ReadListenerStderr("eventlog"), "eventlog")
		var prev int64 = -1
		for _, l := range all {
			if l.Level != "info" {
				t.Errorf("eventlog logged at %s: %s", l.Level, l)
			}
			if l.Message != "event" {
				continue
			}
			if prev >= 0 && l.PoolSerial != prev+1 {
				t.Errorf("poolserial %d follows %d: %s", l.PoolSerial, prev, l)
			}
			if l.Redelivered || l.Missed != 0 {
				t.Errorf("re-sent or gap: %s", l)
			}
			prev = l.PoolSerial
		}
		if prev < 20 {
			t.Errorf("only %d events logged", prev+1)
		}
	})
}

func wantState(t *testing.T, l line, process, group, from, to string) {
	t.Helper()
	if l.State == nil {
		t.Fatalf("no state: %s", l)
	}
	if l.State.Process != process || l.State.Group != group || l.State.FromState != from || l.State.ToState != to {
		t.Errorf("state = %+v, want %s:%s %s -> %s", *l.State, group, process, from, to)
	}
}

func wantOutput(t *testing.T, o *output, process, channel, data, want string) {
	t.Helper()
	if o.Process != process || o.Group != process || o.Channel != channel || data != want || o.PID <= 0 {
		t.Errorf("output = %+v, want %s on %s: %q", o, process, channel, want)
	}
}

func multicall(t *testing.T, s *harness.Supervisord, calls ...supervisor.Call) {
	t.Helper()
	res, err := s.Client.Multicall(ctx(t), calls)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", calls[i].Method, r.Err)
		}
	}
}
