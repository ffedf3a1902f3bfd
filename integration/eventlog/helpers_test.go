package eventlog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// wait bounds every wait: generous, because the machine may be busy.
const wait = 30 * time.Second

const (
	eventlogPkg = "./listeners/eventlog"
	fakePkg     = "./integration/cmd/fakestrategy"
)

// line is one JSON line of eventlog's stderr, as documented in
// listeners/eventlog: the header fields, delivery tracking, and the parsed
// payload under the family's key.
type line struct {
	Level       string `json:"level"`
	Listener    string `json:"listener"`
	Message     string `json:"message"`
	EventName   string `json:"eventname"`
	Serial      int64  `json:"serial"`
	Pool        string `json:"pool"`
	PoolSerial  int64  `json:"poolserial"`
	Server      string `json:"server"`
	Len         int    `json:"len"`
	Attempt     int    `json:"attempt"`
	Redelivered bool   `json:"redelivered"`
	Missed      int64  `json:"missed"`
	State       *struct {
		Process   string `json:"process"`
		Group     string `json:"group"`
		FromState string `json:"from_state"`
		ToState   string `json:"to_state"`
		Expected  *bool  `json:"expected"`
		PID       int    `json:"pid"`
		Tries     int    `json:"tries"`
	} `json:"state"`
	Tick *struct {
		Period int       `json:"period"`
		When   time.Time `json:"when"`
	} `json:"tick"`
	Log        *output                      `json:"log"`
	Comm       *output                      `json:"comm"`
	Remote     *struct{ Type, Data string } `json:"remote"`
	Supervisor *struct{ State string }      `json:"supervisor"`
	Group      *struct {
		Group string `json:"group"`
		Added bool   `json:"added"`
	} `json:"group"`
	raw string
}

// output is the payload of PROCESS_LOG_* and PROCESS_COMMUNICATION_*.
type output struct {
	Process string `json:"process"`
	Group   string `json:"group"`
	PID     int    `json:"pid"`
	Channel string `json:"channel"`
	Data    string `json:"data"`
}

func (l line) String() string { return l.raw }

// parseLines parses the JSON lines of text that come from listener; other
// lines (the Go supervisord mixes its own output in) are skipped.
func parseLines(t *testing.T, text, listener string) []line {
	t.Helper()
	var out []line
	for raw := range strings.Lines(text) {
		raw = strings.TrimSpace(raw)
		if !strings.HasPrefix(raw, "{") || !strings.Contains(raw, `"listener":"`+listener+`"`) {
			continue
		}
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("eventlog line is not JSON: %v\n%s", err, raw)
		}
		l.raw = raw
		out = append(out, l)
	}
	return out
}

// events waits until at least n event lines of listener name match keep,
// and returns all event lines and the matching ones.
func events(t *testing.T, s *harness.Supervisord, name string, n int, what string, keep func(line) bool) (all, matched []line) {
	t.Helper()
	testsupport.Eventually(t, wait, what, func() (bool, string) {
		all, matched = nil, nil
		for _, l := range parseLines(t, s.ReadListenerStderr(name), name) {
			if l.Message != "event" {
				continue
			}
			all = append(all, l)
			if keep(l) {
				matched = append(matched, l)
			}
		}
		return len(matched) >= n, fmt.Sprintf("%d of %d; eventlog logged %d events:\n%s", len(matched), n, len(all), lastLines(all, 15))
	})
	return all, matched
}

func lastLines(ls []line, n int) string {
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.raw + "\n")
	}
	return b.String()
}

// isEvent returns a filter on the event name and, when process is not "",
// the process the event is about.
func isEvent(name, process string) func(line) bool {
	return func(l line) bool {
		if l.EventName != name {
			return false
		}
		if process == "" {
			return true
		}
		switch {
		case l.State != nil:
			return l.State.Process == process
		case l.Log != nil:
			return l.Log.Process == process
		case l.Comm != nil:
			return l.Comm.Process == process
		}
		return false
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), wait)
	t.Cleanup(cancel)
	return c
}
