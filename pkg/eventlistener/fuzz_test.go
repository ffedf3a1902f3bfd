package eventlistener

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// seedStreams adds every golden and captured stdin file to f.
func seedStreams(f *testing.F, add func(b []byte)) {
	f.Helper()
	files, _ := filepath.Glob("testdata/golden/*.stdin")
	captured, _ := filepath.Glob("testdata/captured/*.stdin")
	for _, p := range append(files, captured...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add("ver:3.0 server:supervisor serial:21 pool:listener poolserial:10 eventname:PROCESS_COMMUNICATION_STDOUT len:54\n")
	f.Add("ver:3.0 server:a b:c serial:1 pool:p poolserial:1 eventname:X len:0")
	f.Add("len:1 eventname:X poolserial:0 pool:p serial:0 server: ver:")
	f.Add("RESULT 2\nOK")
	seedStreams(f, func(b []byte) {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			f.Add(string(b[:i+1]))
		}
	})
	f.Fuzz(func(t *testing.T, line string) {
		h, err := ParseHeader(line)
		if err != nil {
			return
		}
		if h.Len < 0 || h.Serial < 0 || h.PoolSerial < 0 || h.EventName == "" {
			t.Fatalf("ParseHeader(%q) accepted %+v", line, h)
		}
		back, err := ParseHeader(h.String())
		if err != nil || back != h {
			t.Fatalf("round trip of %q through %q: %+v, %v", line, h.String(), back, err)
		}
	})
}

func FuzzParsePayload(f *testing.F) {
	seeds := [][2]string{
		{"PROCESS_STATE_EXITED", "processname:a groupname:g from_state:RUNNING expected:0 pid:1"},
		{"PROCESS_STATE_STARTING", "processname:a groupname: from_state:Stopped tries:0"},
		{"TICK_5", "when:1700000005"},
		{"PROCESS_LOG_STDOUT", "processname:a groupname:a pid:1 channel:stdout\n\u2713 data"},
		{"PROCESS_COMMUNICATION_STDERR", "processname:a groupname:a pid:1\nx"},
		{"REMOTE_COMMUNICATION", "type:t:u\nd"},
		{"SUPERVISOR_STATE_CHANGE_RUNNING", ""},
		{"PROCESS_GROUP_ADDED", "groupname:g\n"},
		{"UNKNOWN", "a:b c\nd"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, payload string) {
		ev, err := ParsePayload(name, payload)
		if ev.Fields == nil {
			t.Fatal("Fields is nil")
		}
		if ev.EventName != name || ev.Payload != payload {
			t.Fatal("EventName or Payload changed")
		}
		parts := 0
		for _, set := range []bool{ev.State != nil, ev.Tick != nil, ev.Log != nil, ev.Comm != nil,
			ev.Remote != nil, ev.Supervisor != nil, ev.Group != nil} {
			if set {
				parts++
			}
		}
		if parts > 1 || (err != nil && parts != 0) {
			t.Fatalf("%d typed parts set (err %v)", parts, err)
		}
		if s := ev.State; s != nil && (s.Process == "" || s.Group == "" || s.FromState == "" || s.ToState == "") {
			t.Fatalf("incomplete state %+v", s)
		}
	})
}

// FuzzLoop runs the whole loop on arbitrary input: it must not panic, must
// end, and must write nothing but READY and well-formed results.
func FuzzLoop(f *testing.F) {
	seedStreams(f, func(b []byte) { f.Add(b, false) })
	f.Add([]byte("ver:3.0 server:s serial:1 pool:p poolserial:1 eventname:X len:3\n\xe2\x9c\x93ab"), true)
	f.Fuzz(func(t *testing.T, stdin []byte, goDialect bool) {
		d := Supervisor4
		if goDialect {
			d = GoSupervisord
		}
		var stdout bytes.Buffer
		h := HandlerFunc(func(_ context.Context, ev *Event) error {
			if ev.Serial%3 == 1 {
				return errors.New("fail")
			}
			return nil
		})
		err := Run(context.Background(), bytes.NewReader(stdin), &stdout, h,
			Options{Dialect: d, Instance: "fuzz", MaxAttempts: 2, FailDelay: 1})
		if err != nil && !errors.Is(err, ErrProtocol) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("Run: %v", err)
		}
		checkProtocolOutput(t, stdout.Bytes())
	})
}

// checkProtocolOutput checks that out is READY\n followed by results, each
// "RESULT n\n" + n bytes of OK or FAIL + READY\n.
func checkProtocolOutput(t *testing.T, out []byte) {
	t.Helper()
	rest, ok := bytes.CutPrefix(out, []byte("READY\n"))
	if !ok {
		t.Fatalf("output does not start with READY: %q", out)
	}
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		num, isResult := bytes.CutPrefix(line, []byte("RESULT "))
		if !ok || !isResult {
			t.Fatalf("bad result line in %q", out)
		}
		n, err := strconv.Atoi(string(num))
		if err != nil || n > len(after) {
			t.Fatalf("bad result length in %q", out)
		}
		if body := string(after[:n]); body != "OK" && body != "FAIL" {
			t.Fatalf("result body %q in %q", body, out)
		}
		rest, ok = bytes.CutPrefix(after[n:], []byte("READY\n"))
		if !ok {
			t.Fatalf("no READY after a result in %q", out)
		}
	}
}
