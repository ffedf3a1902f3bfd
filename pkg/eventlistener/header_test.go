package eventlistener

import (
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	full := Header{Ver: "3.0", Server: "supervisor", Serial: 21, Pool: "listener", PoolSerial: 10,
		EventName: "PROCESS_COMMUNICATION_STDOUT", Len: 54}
	tests := []struct {
		name    string
		line    string
		want    Header
		wantErr string
	}{
		{name: "real supervisord", line: "ver:3.0 server:supervisor serial:21 pool:listener poolserial:10 eventname:PROCESS_COMMUNICATION_STDOUT len:54\n", want: full},
		{name: "no newline", line: "ver:3.0 server:supervisor serial:21 pool:listener poolserial:10 eventname:PROCESS_COMMUNICATION_STDOUT len:54", want: full},
		{name: "any order, unknown key ignored", line: "len:54 eventname:PROCESS_COMMUNICATION_STDOUT extra:1 poolserial:10 pool:listener serial:21 server:supervisor ver:3.0", want: full},
		{name: "colon in a value", line: "ver:3.0 server:host:9001 serial:1 pool:p poolserial:1 eventname:TICK_5 len:0",
			want: Header{Ver: "3.0", Server: "host:9001", Serial: 1, Pool: "p", PoolSerial: 1, EventName: "TICK_5"}},
		{name: "space in the server identifier", line: "ver:3.0 server:prod box 1 serial:1 pool:p poolserial:1 eventname:TICK_5 len:15",
			want: Header{Ver: "3.0", Server: "prod box 1", Serial: 1, Pool: "p", PoolSerial: 1, EventName: "TICK_5", Len: 15}},
		{name: "empty server", line: "ver:3.0 server: serial:0 pool:p poolserial:0 eventname:X len:0",
			want: Header{Ver: "3.0", Pool: "p", EventName: "X"}},
		{name: "empty", line: "\n", wantErr: "empty header line"},
		{name: "garbage", line: "hello world\n", wantErr: `header token "hello": no colon`},
		{name: "missing len", line: "ver:3.0 server:s serial:1 pool:p poolserial:1 eventname:TICK_5", wantErr: "header: missing len"},
		{name: "missing several", line: "ver:3.0 len:3", wantErr: "header: missing server, serial, pool, poolserial, eventname"},
		{name: "len not a number", line: "ver:3.0 server:s serial:1 pool:p poolserial:1 eventname:TICK_5 len:x", wantErr: `header len: "x": not a number`},
		{name: "negative len", line: "ver:3.0 server:s serial:1 pool:p poolserial:1 eventname:TICK_5 len:-1", wantErr: `header len: "-1": negative`},
		{name: "huge len", line: "ver:3.0 server:s serial:1 pool:p poolserial:1 eventname:TICK_5 len:99999999999", wantErr: `header len: "99999999999": too large`},
		{name: "bad serial", line: "ver:3.0 server:s serial:1e3 pool:p poolserial:1 eventname:TICK_5 len:1", wantErr: `header serial: "1e3": not a number`},
		{name: "duplicate key", line: "ver:3.0 server:s serial:1 serial:2 pool:p poolserial:1 eventname:TICK_5 len:1", wantErr: "header serial: given twice"},
		{name: "empty eventname", line: "ver:3.0 server:s serial:1 pool:p poolserial:1 eventname: len:1", wantErr: "header eventname: empty"},
		{name: "payload glued on (len too short upstream)", line: "processname:a groupname:a from_state:RUNNING pid:1ver:3.0 server:s serial:1 pool:p poolserial:1 eventname:TICK_5 len:1", wantErr: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.line)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseHeader(%q) error = %v, want %q", tt.line, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHeader(%q): %v", tt.line, err)
			}
			if got != tt.want {
				t.Fatalf("ParseHeader(%q) =\n %+v\nwant\n %+v", tt.line, got, tt.want)
			}
			back, err := ParseHeader(got.String())
			if err != nil || back != got {
				t.Fatalf("round trip through %q: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestDialect(t *testing.T) {
	tests := []struct {
		in      string
		want    Dialect
		wantErr bool
	}{
		{in: "supervisor4", want: Supervisor4},
		{in: "GoSupervisord", want: GoSupervisord},
		{in: "supervisor3", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Dialect
			err := d.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("UnmarshalText(%q) error = %v", tt.in, err)
			}
			if err == nil && (d != tt.want || !strings.EqualFold(d.String(), tt.in)) {
				t.Fatalf("UnmarshalText(%q) = %v", tt.in, d)
			}
		})
	}
	if s := Dialect(7).String(); s != "dialect(7)" {
		t.Errorf("Dialect(7).String() = %q", s)
	}
}
