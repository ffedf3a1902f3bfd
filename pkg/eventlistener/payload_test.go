package eventlistener

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestParsePayload(t *testing.T) {
	tests := []struct {
		name, event, payload string
		want                 Event // only the typed part and Fields are compared
		wantErr              string
	}{
		{
			name: "exited", event: "PROCESS_STATE_EXITED",
			payload: "processname:engine groupname:strat from_state:RUNNING expected:0 pid:123",
			want: Event{State: &ProcessState{Process: "engine", Group: "strat", FromState: "RUNNING", ToState: "EXITED", HasExpected: true, PID: 123},
				Fields: map[string]string{"processname": "engine", "groupname": "strat", "from_state": "RUNNING", "expected": "0", "pid": "123"}},
		},
		{
			name: "exited expected", event: "PROCESS_STATE_EXITED",
			payload: "processname:a groupname:a from_state:RUNNING expected:1 pid:5",
			want: Event{State: &ProcessState{Process: "a", Group: "a", FromState: "RUNNING", ToState: "EXITED", Expected: true, HasExpected: true, PID: 5},
				Fields: map[string]string{"processname": "a", "groupname": "a", "from_state": "RUNNING", "expected": "1", "pid": "5"}},
		},
		{
			name: "backoff tries", event: "PROCESS_STATE_BACKOFF",
			payload: "processname:a groupname:g from_state:STARTING tries:3",
			want: Event{State: &ProcessState{Process: "a", Group: "g", FromState: "STARTING", ToState: "BACKOFF", Tries: 3},
				Fields: map[string]string{"processname": "a", "groupname": "g", "from_state": "STARTING", "tries": "3"}},
		},
		{
			name: "go supervisord state", event: "PROCESS_STATE_RUNNING",
			payload: "processname:a groupname: from_state:Starting pid:7",
			want: Event{State: &ProcessState{Process: "a", Group: "a", FromState: "STARTING", ToState: "RUNNING", PID: 7},
				Fields: map[string]string{"processname": "a", "groupname": "", "from_state": "Starting", "pid": "7"}},
		},
		{
			name: "state trailing newline tolerated", event: "PROCESS_STATE_FATAL",
			payload: "processname:a groupname:a from_state:BACKOFF\n",
			want: Event{State: &ProcessState{Process: "a", Group: "a", FromState: "BACKOFF", ToState: "FATAL"},
				Fields: map[string]string{"processname": "a", "groupname": "a", "from_state": "BACKOFF"}},
		},
		{name: "state without processname", event: "PROCESS_STATE_FATAL", payload: "groupname:a from_state:BACKOFF", wantErr: "no processname"},
		{name: "state without from_state", event: "PROCESS_STATE_FATAL", payload: "processname:a groupname:a", wantErr: "no from_state"},
		{name: "state bad pid", event: "PROCESS_STATE_RUNNING", payload: "processname:a groupname:a from_state:STARTING pid:-4", wantErr: `pid "-4"`},
		{name: "state bad tries", event: "PROCESS_STATE_STARTING", payload: "processname:a groupname:a from_state:STOPPED tries:x", wantErr: `tries "x"`},
		{name: "state bad token", event: "PROCESS_STATE_STARTING", payload: "garbage processname:a", wantErr: `token "garbage": no colon`},
		{name: "state duplicate token", event: "PROCESS_STATE_STARTING", payload: "processname:a processname:b from_state:X", wantErr: "given twice"},
		{name: "state empty key", event: "PROCESS_STATE_STARTING", payload: "processname:a :b from_state:X", wantErr: "empty key"},
		{
			name: "tick", event: "TICK_60", payload: "when:1700000040",
			want: Event{Tick: &Tick{Period: 60, When: time.Unix(1700000040, 0).UTC()}, Fields: map[string]string{"when": "1700000040"}},
		},
		{name: "tick without when", event: "TICK_5", payload: "", wantErr: "no when"},
		{
			name: "log with colon and multi-byte data", event: "PROCESS_LOG_STDERR",
			payload: "processname:a groupname:g pid:9 channel:stderr\nerr: \u2713 \U0001F600\nmore",
			want: Event{Log: &ProcessLog{Process: "a", Group: "g", PID: 9, Channel: "stderr", Data: "err: \u2713 \U0001F600\nmore"},
				Fields: map[string]string{"processname": "a", "groupname": "g", "pid": "9", "channel": "stderr"}},
		},
		{
			name: "log go supervisord (no channel)", event: "PROCESS_LOG_STDOUT",
			payload: "processname:a groupname: pid:9\nhi",
			want: Event{Log: &ProcessLog{Process: "a", Group: "a", PID: 9, Channel: "stdout", Data: "hi"},
				Fields: map[string]string{"processname": "a", "groupname": "", "pid": "9"}},
		},
		{name: "log without newline", event: "PROCESS_LOG_STDOUT", payload: "processname:a groupname:a pid:9 channel:stdout", wantErr: "no newline"},
		{
			name: "communication", event: "PROCESS_COMMUNICATION_STDOUT",
			payload: "processname:a groupname:g pid:9\nline1\nline2",
			want: Event{Comm: &ProcessComm{Process: "a", Group: "g", PID: 9, Channel: "stdout", Data: "line1\nline2"},
				Fields: map[string]string{"processname": "a", "groupname": "g", "pid": "9"}},
		},
		{name: "communication without process", event: "PROCESS_COMMUNICATION_STDERR", payload: "pid:9\nx", wantErr: "no processname"},
		{
			name: "remote with spaces and colons in type", event: "REMOTE_COMMUNICATION",
			payload: "type:deploy v1:prod\ndata: 1\n2",
			want:    Event{Remote: &RemoteComm{Type: "deploy v1:prod", Data: "data: 1\n2"}, Fields: map[string]string{"type": "deploy v1:prod"}},
		},
		{
			name: "remote empty", event: "REMOTE_COMMUNICATION", payload: "type:\n",
			want: Event{Remote: &RemoteComm{}, Fields: map[string]string{"type": ""}},
		},
		{name: "remote without type", event: "REMOTE_COMMUNICATION", payload: "hello\nx", wantErr: "want \"type:T\\n\""},
		{
			name: "supervisor running", event: "SUPERVISOR_STATE_CHANGE_RUNNING", payload: "",
			want: Event{Supervisor: &SupervisorState{State: "RUNNING"}, Fields: map[string]string{}},
		},
		{
			name: "group removed", event: "PROCESS_GROUP_REMOVED", payload: "groupname:g\n",
			want: Event{Group: &ProcessGroup{Group: "g"}, Fields: map[string]string{"groupname": "g"}},
		},
		{name: "group without name", event: "PROCESS_GROUP_ADDED", payload: "\n", wantErr: "no groupname"},
		{
			name: "unknown with tokens", event: "CUSTOM_EVENT", payload: "k:v:w x:1\nbody",
			want: Event{Fields: map[string]string{"k": "v:w", "x": "1"}},
		},
		{name: "unknown free text", event: "CUSTOM_EVENT", payload: "just text", want: Event{Fields: map[string]string{}}},
		{name: "TICK_ without digits is unknown", event: "TICK_X", payload: "when:1", want: Event{Fields: map[string]string{"when": "1"}}},
		{name: "bare PROCESS_STATE_ is unknown", event: "PROCESS_STATE_", payload: "a:b", want: Event{Fields: map[string]string{"a": "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePayload(tt.event, tt.payload)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), tt.event+" payload: ") {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if got.Fields == nil {
					t.Fatal("Fields is nil on error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.EventName != tt.event || got.Payload != tt.payload {
				t.Errorf("EventName/Payload = %q/%q", got.EventName, got.Payload)
			}
			got.Header, got.Payload = Header{}, ""
			if !reflect.DeepEqual(got, tt.want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(tt.want)
				t.Fatalf("got  %s\nwant %s", gj, wj)
			}
		})
	}
}

func TestEventProcessName(t *testing.T) {
	tests := []struct {
		event, payload, want string
	}{
		{"PROCESS_STATE_RUNNING", "processname:a groupname:g from_state:STARTING pid:1", "g:a"},
		{"PROCESS_LOG_STDOUT", "processname:a groupname: pid:1\nx", "a:a"},
		{"PROCESS_COMMUNICATION_STDERR", "processname:a groupname:g pid:1\nx", "g:a"},
		{"TICK_5", "when:1", ""},
		{"FUTURE_PROCESS_THING", "processname:a", "a:a"},
		{"FUTURE_PROCESS_THING", "processname:a groupname:g", "g:a"},
	}
	for _, tt := range tests {
		t.Run(tt.event+" "+tt.want, func(t *testing.T) {
			ev, err := ParsePayload(tt.event, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.ProcessName(); got != tt.want {
				t.Fatalf("ProcessName() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEventMarshalZerologObject(t *testing.T) {
	tests := []struct {
		event, payload string
		want           map[string]any
	}{
		{"PROCESS_STATE_EXITED", "processname:a groupname:g from_state:RUNNING expected:0 pid:12", map[string]any{
			"state": map[string]any{"process": "a", "group": "g", "from_state": "RUNNING", "to_state": "EXITED", "expected": false, "pid": 12.0}}},
		{"PROCESS_STATE_STARTING", "processname:a groupname:g from_state:BACKOFF tries:2", map[string]any{
			"state": map[string]any{"process": "a", "group": "g", "from_state": "BACKOFF", "to_state": "STARTING", "tries": 2.0}}},
		{"TICK_5", "when:1700000005", map[string]any{"tick": map[string]any{"period": 5.0, "when": "2023-11-14T22:13:25Z"}}},
		{"PROCESS_LOG_STDOUT", "processname:a groupname:g pid:3 channel:stdout\n\u2713", map[string]any{
			"log": map[string]any{"process": "a", "group": "g", "pid": 3.0, "channel": "stdout", "data": "\u2713"}}},
		{"PROCESS_COMMUNICATION_STDOUT", "processname:a groupname:g pid:3\nx", map[string]any{
			"comm": map[string]any{"process": "a", "group": "g", "pid": 3.0, "channel": "stdout", "data": "x"}}},
		{"REMOTE_COMMUNICATION", "type:t\nd", map[string]any{"remote": map[string]any{"type": "t", "data": "d"}}},
		{"SUPERVISOR_STATE_CHANGE_STOPPING", "", map[string]any{"supervisor": map[string]any{"state": "STOPPING"}}},
		{"PROCESS_GROUP_ADDED", "groupname:g\n", map[string]any{"group": map[string]any{"group": "g", "added": true}}},
		{"NEW_EVENT", "b:2 a:1\nrest", map[string]any{"fields": map[string]any{"a": "1", "b": "2"}, "payload": "b:2 a:1\nrest"}},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			ev, err := ParsePayload(tt.event, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			ev.Header = Header{Ver: "3.0", Server: "s", Serial: 4, Pool: "p", PoolSerial: 2, EventName: tt.event, Len: len(tt.payload)}
			ev.Attempt, ev.Redelivered, ev.Missed = 2, true, 3
			var buf bytes.Buffer
			log := zerolog.New(&buf)
			log.Info().EmbedObject(&ev).Msg("event")
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			want := map[string]any{"level": "info", "message": "event", "eventname": tt.event, "serial": 4.0,
				"pool": "p", "poolserial": 2.0, "server": "s", "len": float64(len(tt.payload)),
				"attempt": 2.0, "redelivered": true, "missed": 3.0}
			for k, v := range tt.want {
				want[k] = v
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
			if strings.Count(buf.String(), "\n") != 1 {
				t.Fatalf("not one line: %q", buf.String())
			}
		})
	}
}
