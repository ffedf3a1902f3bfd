// Package eventrecord is the file format in which integration/cmd/testlistener
// records what it receives, one JSON object per line, and the reader tests
// use to check it. Each line is written with a single append, so a listener
// killed mid-event leaves whole lines only.
package eventrecord

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Kinds of Record.
const (
	KindEvent     = "event"     // one delivery of an event
	KindReconcile = "reconcile" // a Reconcile call (start-up or poolserial gap)
)

// Answers a listener gave to an event.
const (
	AnswerOK     = "OK"
	AnswerFail   = "FAIL"
	AnswerPaused = "PAUSED" // the handler blocked at the test pause point
)

// Record is one line of the record file.
type Record struct {
	Kind string    `json:"kind"`
	PID  int       `json:"pid"` // the listener process
	Time time.Time `json:"time"`

	// Events (KindEvent).
	Ver         string            `json:"ver,omitempty"`
	Server      string            `json:"server,omitempty"`
	Serial      int64             `json:"serial"`
	Pool        string            `json:"pool,omitempty"`
	PoolSerial  int64             `json:"poolserial"`
	EventName   string            `json:"eventname,omitempty"`
	Len         int               `json:"len"`
	Payload     string            `json:"payload,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
	Redelivered bool              `json:"redelivered"`
	Attempt     int               `json:"attempt"`
	Missed      int64             `json:"missed,omitempty"`
	Answer      string            `json:"answer,omitempty"`

	// Reconciliations (KindReconcile).
	Reason    string `json:"reason,omitempty"`
	Processes int    `json:"processes,omitempty"`
}

// Append writes rec as one line at the end of the file at path, in a single
// write to a file opened with O_APPEND, and syncs it.
func Append(path string, rec Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("record %s: %w", path, err)
	}
	return nil
}

// ReadFile returns every record in the file at path; a missing file has
// none. A line that is not a whole JSON record is an error.
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return out, fmt.Errorf("records %s line %d: %w", path, n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("records %s: %w", path, err)
	}
	return out, nil
}

// Events returns the event records among recs whose event name is name
// (all event records when name is "").
func Events(recs []Record, name string) []Record {
	var out []Record
	for _, r := range recs {
		if r.Kind == KindEvent && (name == "" || r.EventName == name) {
			out = append(out, r)
		}
	}
	return out
}
