package eventlistener

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Event is one event as handed to a Handler: the header, the raw payload,
// what delivery tracking knows about it, and exactly one typed part chosen by
// the event's family (none for event names this package does not know, which
// are passed through with Fields and Payload only).
type Event struct {
	Header
	Payload     string `json:"payload"`               // raw payload text
	Redelivered bool   `json:"redelivered,omitempty"` // this (supervisord instance, pool, serial) was received before (FAIL re-send, or re-send after a listener restart)
	Attempt     int    `json:"attempt"`               // 1 on first delivery
	Missed      int64  `json:"missed,omitempty"`      // events of this pool that supervisord dropped just before this one (poolserial gap)

	State      *ProcessState    `json:"state,omitempty"`      // PROCESS_STATE_*
	Tick       *Tick            `json:"tick,omitempty"`       // TICK_5/60/3600
	Log        *ProcessLog      `json:"log,omitempty"`        // PROCESS_LOG_STDOUT/STDERR
	Comm       *ProcessComm     `json:"comm,omitempty"`       // PROCESS_COMMUNICATION_STDOUT/STDERR
	Remote     *RemoteComm      `json:"remote,omitempty"`     // REMOTE_COMMUNICATION
	Supervisor *SupervisorState `json:"supervisor,omitempty"` // SUPERVISOR_STATE_CHANGE_RUNNING/STOPPING
	Group      *ProcessGroup    `json:"group,omitempty"`      // PROCESS_GROUP_ADDED/REMOVED

	// Fields holds the payload's token-line fields (the first line, split
	// into key:value tokens at the first colon). Never nil.
	Fields map[string]string `json:"fields"`
}

// ProcessState is the payload of PROCESS_STATE_* events, normalised: state
// names upper-case, and an empty group (Go supervisord) replaced by the
// process name, which is what real supervisord sends for ungrouped programs.
type ProcessState struct {
	Process     string `json:"process"`
	Group       string `json:"group"`
	FromState   string `json:"from_state"`
	ToState     string `json:"to_state"`        // from the event name: PROCESS_STATE_EXITED -> "EXITED"
	Expected    bool   `json:"-"`               // EXITED only: the exit code was in exitcodes
	HasExpected bool   `json:"-"`               // the payload had an expected token (EXITED)
	PID         int    `json:"pid,omitempty"`   // RUNNING, STOPPING, STOPPED, EXITED
	Tries       int    `json:"tries,omitempty"` // STARTING, BACKOFF
}

// MarshalJSON writes "expected" only when the payload had it.
func (s *ProcessState) MarshalJSON() ([]byte, error) {
	type plain ProcessState
	out := struct {
		*plain
		Expected *bool `json:"expected,omitempty"`
	}{plain: (*plain)(s)}
	if s.HasExpected {
		out.Expected = &s.Expected
	}
	return json.Marshal(out)
}

// Name returns the process's supervisord name, "group:process", as the
// XML-RPC methods take it.
func (s *ProcessState) Name() string { return s.Group + ":" + s.Process }

// Tick is the payload of TICK_5, TICK_60 and TICK_3600.
type Tick struct {
	Period int       `json:"period"` // seconds: 5, 60 or 3600
	When   time.Time `json:"when"`   // the period boundary (UTC), not the delivery time
}

// ProcessLog is the payload of PROCESS_LOG_STDOUT and PROCESS_LOG_STDERR.
type ProcessLog struct {
	Process string `json:"process"`
	Group   string `json:"group"`
	PID     int    `json:"pid"`
	Channel string `json:"channel"` // "stdout" | "stderr"
	Data    string `json:"data"`
}

// ProcessComm is the payload of PROCESS_COMMUNICATION_STDOUT/STDERR: the
// text a process wrote between <!--XSUPERVISOR:BEGIN--> and
// <!--XSUPERVISOR:END-->.
type ProcessComm struct {
	Process string `json:"process"`
	Group   string `json:"group"`
	PID     int    `json:"pid"`
	Channel string `json:"channel"` // "stdout" | "stderr"
	Data    string `json:"data"`
}

// RemoteComm is the payload of REMOTE_COMMUNICATION (sent through the
// sendRemoteCommEvent XML-RPC method).
type RemoteComm struct {
	Type string `json:"type"`
	Data string `json:"data"`
}

// SupervisorState is the payload of SUPERVISOR_STATE_CHANGE_RUNNING and
// SUPERVISOR_STATE_CHANGE_STOPPING.
type SupervisorState struct {
	State string `json:"state"` // "RUNNING" | "STOPPING"
}

// ProcessGroup is the payload of PROCESS_GROUP_ADDED and PROCESS_GROUP_REMOVED.
type ProcessGroup struct {
	Group string `json:"group"`
	Added bool   `json:"added"` // false: removed
}

// ProcessName returns "group:process" for events about one process (state,
// log and communication events, or an unknown event whose token line names a
// processname), else "".
func (e *Event) ProcessName() string {
	switch {
	case e.State != nil:
		return e.State.Name()
	case e.Log != nil:
		return e.Log.Group + ":" + e.Log.Process
	case e.Comm != nil:
		return e.Comm.Group + ":" + e.Comm.Process
	}
	if p := e.Fields["processname"]; p != "" {
		g := e.Fields["groupname"]
		if g == "" {
			g = p
		}
		return g + ":" + p
	}
	return ""
}

// MarshalZerologObject writes the event as log fields: the header fields
// (eventname, serial, pool, poolserial, server, len), delivery tracking
// (attempt, redelivered, missed) and the parsed payload as one object named
// after its family (state, tick, log, comm, remote, supervisor, group), or
// fields and payload for an unknown event. It implements
// zerolog.LogObjectMarshaler, so listeners log an event with
// logger.Info().EmbedObject(ev).Msg("event").
func (e *Event) MarshalZerologObject(z *zerolog.Event) {
	z.Str("eventname", e.EventName).
		Int64("serial", e.Serial).
		Str("pool", e.Pool).
		Int64("poolserial", e.PoolSerial).
		Str("server", e.Server).
		Int("len", e.Len).
		Int("attempt", e.Attempt)
	if e.Redelivered {
		z.Bool("redelivered", true)
	}
	if e.Missed > 0 {
		z.Int64("missed", e.Missed)
	}
	switch {
	case e.State != nil:
		z.Object("state", e.State)
	case e.Tick != nil:
		z.Object("tick", e.Tick)
	case e.Log != nil:
		z.Object("log", e.Log)
	case e.Comm != nil:
		z.Object("comm", e.Comm)
	case e.Remote != nil:
		z.Object("remote", e.Remote)
	case e.Supervisor != nil:
		z.Object("supervisor", e.Supervisor)
	case e.Group != nil:
		z.Object("group", e.Group)
	default:
		z.Object("fields", fieldsObject(e.Fields)).Str("payload", e.Payload)
	}
}

// MarshalZerologObject implements zerolog.LogObjectMarshaler.
func (s *ProcessState) MarshalZerologObject(z *zerolog.Event) {
	z.Str("process", s.Process).Str("group", s.Group).
		Str("from_state", s.FromState).Str("to_state", s.ToState)
	if s.HasExpected {
		z.Bool("expected", s.Expected)
	}
	if s.PID != 0 {
		z.Int("pid", s.PID)
	}
	if s.Tries != 0 {
		z.Int("tries", s.Tries)
	}
}

// MarshalZerologObject implements zerolog.LogObjectMarshaler.
func (t *Tick) MarshalZerologObject(z *zerolog.Event) {
	z.Int("period", t.Period).Time("when", t.When)
}

// MarshalZerologObject implements zerolog.LogObjectMarshaler.
func (l *ProcessLog) MarshalZerologObject(z *zerolog.Event) {
	z.Str("process", l.Process).Str("group", l.Group).Int("pid", l.PID).
		Str("channel", l.Channel).Str("data", l.Data)
}

// MarshalZerologObject implements zerolog.LogObjectMarshaler.
func (c *ProcessComm) MarshalZerologObject(z *zerolog.Event) {
	z.Str("process", c.Process).Str("group", c.Group).Int("pid", c.PID).
		Str("channel", c.Channel).Str("data", c.Data)
}

// MarshalZerologObject implements zerolog.LogObjectMarshaler.
func (r *RemoteComm) MarshalZerologObject(z *zerolog.Event) {
	z.Str("type", r.Type).Str("data", r.Data)
}

// MarshalZerologObject implements zerolog.LogObjectMarshaler.
func (s *SupervisorState) MarshalZerologObject(z *zerolog.Event) { z.Str("state", s.State) }

// fieldsObject logs a token-line map with its keys in sorted order.
type fieldsObject map[string]string

func (f fieldsObject) MarshalZerologObject(z *zerolog.Event) {
	for _, k := range slices.Sorted(maps.Keys(f)) {
		z.Str(k, f[k])
	}
}

// MarshalZerologObject implements zerolog.LogObjectMarshaler.
func (g *ProcessGroup) MarshalZerologObject(z *zerolog.Event) {
	z.Str("group", g.Group).Bool("added", g.Added)
}

// withEvent adds the fields every per-event log line of this package
// carries: eventname, serial, pool, poolserial and, when there is one, the
// process.
func withEvent(z *zerolog.Event, e *Event) *zerolog.Event {
	if z == nil {
		return nil
	}
	z.Str("eventname", e.EventName).Int64("serial", e.Serial).
		Str("pool", e.Pool).Int64("poolserial", e.PoolSerial)
	if p := e.ProcessName(); p != "" {
		z.Str("process", p)
	}
	return z
}

// EventTypes are the event type names supervisord 4 emits
// (supervisor/events.py), the abstract ones included: a listener
// subscribes to PROCESS_STATE to get every PROCESS_STATE_* event.
var EventTypes = []string{
	"EVENT",
	"PROCESS_STATE", "PROCESS_STATE_STOPPED", "PROCESS_STATE_EXITED", "PROCESS_STATE_FATAL",
	"PROCESS_STATE_RUNNING", "PROCESS_STATE_BACKOFF", "PROCESS_STATE_STOPPING",
	"PROCESS_STATE_STARTING", "PROCESS_STATE_UNKNOWN",
	"REMOTE_COMMUNICATION",
	"PROCESS_LOG", "PROCESS_LOG_STDOUT", "PROCESS_LOG_STDERR",
	"PROCESS_COMMUNICATION", "PROCESS_COMMUNICATION_STDOUT", "PROCESS_COMMUNICATION_STDERR",
	"SUPERVISOR_STATE_CHANGE", "SUPERVISOR_STATE_CHANGE_RUNNING", "SUPERVISOR_STATE_CHANGE_STOPPING",
	"TICK", "TICK_5", "TICK_60", "TICK_3600",
	"PROCESS_GROUP", "PROCESS_GROUP_ADDED", "PROCESS_GROUP_REMOVED",
}

// MatchesEventType reports whether name or prefix selects at least one of
// EventTypes: the name itself, or a prefix ending at an underscore
// ("PROCESS_STATE" and "TICK" do, "PROCESS_STAT" and "TICK_6" do not).
func MatchesEventType(prefix string) bool {
	for _, t := range EventTypes {
		if t == prefix || (strings.HasPrefix(t, prefix+"_")) {
			return true
		}
	}
	return false
}
