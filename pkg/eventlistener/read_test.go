package eventlistener

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// envelope builds one event as the given dialect sends it.
func envelope(d Dialect, serial int64, name, payload string) []byte {
	n := utf8.RuneCountInString(payload)
	if d == GoSupervisord {
		n = len(payload)
	}
	h := Header{Ver: "3.0", Server: "supervisor", Serial: serial, Pool: "p", PoolSerial: serial, EventName: name, Len: n}
	return []byte(h.String() + "\n" + payload)
}

func TestFrameReaderPayloads(t *testing.T) {
	payloads := map[string]string{
		"empty":       "",
		"ascii":       "processname:a groupname:a pid:1 channel:stdout\nhello",
		"multi-byte":  "processname:a groupname:a pid:1 channel:stdout\nna\u00efve \u20ac \u2713 \u65e5\u672c \U0001F600\n",
		"ends in 4B":  "processname:a groupname:a pid:1\n\U0001F600",
		"undecodable": "processname:a groupname:a pid:1 channel:stdout\nUndecodable: b'\\xff\\xfe ok \\xc3(\\n'",
		"raw invalid": "processname:a groupname:a pid:1 channel:stdout\n\xff\xfe ok \xc3(\n",
		"U+FFFD":      "x\uFFFDy",
		"large":       strings.Repeat("\u65e5\u672c\u8a9e ascii \U0001F600", 3000), // > the 16 KiB buffer
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"halves":   iotest.HalfReader,
	}
	for _, d := range []Dialect{Supervisor4, GoSupervisord} {
		for pname, payload := range payloads {
			for rname, wrap := range readers {
				t.Run(d.String()+"/"+pname+"/"+rname, func(t *testing.T) {
					var stream []byte
					stream = append(stream, envelope(d, 1, "PROCESS_LOG_STDOUT", payload)...)
					stream = append(stream, envelope(d, 2, "TICK_5", "when:1")...)
					fr := newFrameReader(wrap(bytes.NewReader(stream)), d)
					f, err := fr.next()
					if err != nil {
						t.Fatal(err)
					}
					if f.h.Serial != 1 || f.payload != payload {
						t.Fatalf("first frame: serial %d payload %q, want %q", f.h.Serial, f.payload, payload)
					}
					f, err = fr.next()
					if err != nil || f.h.Serial != 2 || f.payload != "when:1" {
						t.Fatalf("second frame: %+v, %v", f, err)
					}
					if _, err := fr.next(); err != io.EOF {
						t.Fatalf("after the last frame: %v, want io.EOF", err)
					}
				})
			}
		}
	}
}

// A reader that counted bytes where supervisord counts characters would lose
// sync on the first non-ASCII payload: the next header is then garbage.
func TestFrameReaderWrongDialectDesyncs(t *testing.T) {
	var stream []byte
	stream = append(stream, envelope(Supervisor4, 1, "PROCESS_LOG_STDOUT", "processname:a groupname:a pid:1 channel:stdout\n\u2713\n")...)
	stream = append(stream, envelope(Supervisor4, 2, "TICK_5", "when:1")...)
	fr := newFrameReader(bytes.NewReader(stream), GoSupervisord)
	if _, err := fr.next(); err != nil {
		t.Fatal(err)
	}
	if _, err := fr.next(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("second frame with the wrong dialect: %v, want ErrProtocol", err)
	}
}

// In lockstep supervisord sends nothing after a payload until it gets an
// answer: the reader must return the payload without waiting for more bytes,
// even when the last character is multi-byte.
func TestFrameReaderDoesNotReadAhead(t *testing.T) {
	for _, d := range []Dialect{Supervisor4, GoSupervisord} {
		t.Run(d.String(), func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pr.Close()
			fr := newFrameReader(pr, d)
			done := make(chan error, 1)
			go func() {
				for _, p := range []string{"a\u2713", "\U0001F600", "x"} {
					f, err := fr.next()
					if err == nil && f.payload != p {
						err = errors.New("payload " + f.payload + ", want " + p)
					}
					done <- err
				}
			}()
			for i, p := range []string{"a\u2713", "\U0001F600", "x"} {
				if _, err := pw.Write(envelope(d, int64(i), "X", p)); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("frame %d: reader blocked waiting for bytes past the payload", i)
				}
			}
		})
	}
}

func TestFrameReaderErrors(t *testing.T) {
	good := string(envelope(Supervisor4, 1, "TICK_5", "when:1"))
	tests := []struct {
		name    string
		stream  string
		wantErr error
		wantMsg string
	}{
		{name: "clean EOF", stream: "", wantErr: io.EOF},
		{name: "EOF inside the header", stream: "ver:3.0 server:s", wantErr: io.ErrUnexpectedEOF},
		{name: "EOF inside the payload", stream: good[:len(good)-2], wantErr: io.ErrUnexpectedEOF},
		{name: "EOF after a cut character", stream: "ver:3.0 server:s serial:1 pool:p poolserial:1 eventname:X len:4\na\xe2\x9c", wantErr: io.ErrUnexpectedEOF},
		{name: "bad header", stream: "RESULT 2\nOK", wantErr: ErrProtocol, wantMsg: `header "RESULT 2\n"`},
		{name: "header too long", stream: strings.Repeat("x", readBufferSize+10) + "\n", wantErr: ErrProtocol, wantMsg: "... (16384 bytes)"},
		{name: "len over the limit", stream: "ver:3.0 server:s serial:1 pool:p poolserial:1 eventname:X len:99999999\n", wantErr: ErrProtocol, wantMsg: "over the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := newFrameReader(strings.NewReader(tt.stream), Supervisor4)
			_, err := fr.next()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("next() = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("next() = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestFrameReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	fr := newFrameReader(iotest.ErrReader(boom), Supervisor4)
	if _, err := fr.next(); !errors.Is(err, boom) || errors.Is(err, ErrProtocol) {
		t.Fatalf("next() = %v, want boom", err)
	}
}
