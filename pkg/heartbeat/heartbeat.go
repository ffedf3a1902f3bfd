// Package heartbeat lets a strategy prove to superguard's healthprobe that
// it is alive, over supervisord's own channel: a frame
// <!--XSUPERVISOR:BEGIN-->data<!--XSUPERVISOR:END--> written on stdout,
// which supervisord (with stdout_capture_maxbytes set on the program)
// turns into a PROCESS_COMMUNICATION_STDOUT event for healthprobe. A
// heartbeat check with channel stdout fails when none arrives within its
// TTL.
//
//	hb := heartbeat.New(stdout) // the strategy's standard output
//	for range time.Tick(5 * time.Second) {
//		if healthy() {
//			_ = hb.Beat(`{"md_lag_ms": 12}`)
//		}
//	}
//
// Beat only from the loop whose progress it proves (the order loop, the
// feed handler), never from a timer of its own: a hung loop must stop the
// heartbeats.
package heartbeat

import (
	"errors"
	"io"
	"strings"
	"sync"
)

// The frame tokens of supervisord's capture mode.
const (
	Begin = "<!--XSUPERVISOR:BEGIN-->"
	End   = "<!--XSUPERVISOR:END-->"
)

// Writer writes heartbeat frames, one whole frame per write, safely from
// many goroutines (a frame interleaved with a log line would be lost).
type Writer struct {
	mu  sync.Mutex
	out io.Writer
}

// New returns a Writer on out (the program's stdout).
func New(out io.Writer) *Writer { return &Writer{out: out} }

// ErrToken is returned for data holding a frame token: it would end the
// frame early.
var ErrToken = errors.New("heartbeat: data holds an XSUPERVISOR token")

// Beat writes one heartbeat with data (may be empty).
func (w *Writer) Beat(data string) error {
	if strings.Contains(data, Begin) || strings.Contains(data, End) {
		return ErrToken
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := io.WriteString(w.out, Begin+data+End+"\n")
	return err
}
