package eventlistener

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParsePayload parses payload as the payload of an event named eventName
// and returns an Event holding EventName, Payload, Fields and the typed part
// for the event's family. Event names this package does not know are not an
// error: their Fields hold the first line's tokens when it has any, and no
// typed part is set. Go supervisord's dialect is normalised: Title-case
// state names become upper-case and an empty groupname becomes the process
// name.
func ParsePayload(eventName, payload string) (Event, error) {
	ev := Event{Header: Header{EventName: eventName}, Payload: payload}
	if err := parsePayload(&ev); err != nil {
		return ev, fmt.Errorf("%s payload: %w", eventName, err)
	}
	return ev, nil
}

// Event name prefixes and names of the families this package types.
const (
	prefixState      = "PROCESS_STATE_"
	prefixTick       = "TICK_"
	prefixSupervisor = "SUPERVISOR_STATE_CHANGE_"
	nameRemote       = "REMOTE_COMMUNICATION"
)

// dataEvent checks the token line of an event that carries data after it
// (a process's log or communication) and returns its process fields; what
// names the event in errors.
func dataEvent(fields map[string]string, ferr error, hasData bool, what string) (proc, group string, pid int, err error) {
	if ferr != nil {
		return "", "", 0, ferr
	}
	if !hasData {
		return "", "", 0, errors.New(what + ": no newline after the token line")
	}
	return processFields(fields)
}

// parsePayload fills ev.Fields and ev's typed part from ev.EventName and
// ev.Payload. On error ev.Fields is still set (possibly empty).
func parsePayload(ev *Event) error {
	name := ev.EventName
	line, data, hasData := strings.Cut(ev.Payload, "\n")
	if name == nameRemote {
		// The type is free text (sendRemoteCommEvent takes any string), so
		// the whole first line after "type:" is the type.
		typ, ok := strings.CutPrefix(line, "type:")
		if !ok || !hasData {
			ev.Fields = map[string]string{}
			return errors.New("remote communication: want \"type:T\\n\" then data")
		}
		ev.Fields = map[string]string{"type": typ}
		ev.Remote = &RemoteComm{Type: typ, Data: data}
		return nil
	}
	fields, ferr := parseFields(line)
	ev.Fields = fields
	switch {
	case strings.HasPrefix(name, prefixState) && len(name) > len(prefixState):
		if ferr != nil {
			return ferr
		}
		return parseState(ev, name[len(prefixState):])
	case isTick(name):
		if ferr != nil {
			return ferr
		}
		period, _ := strconv.Atoi(name[len(prefixTick):])
		when, err := intField(fields, "when", true)
		if err != nil {
			return err
		}
		ev.Tick = &Tick{Period: period, When: time.Unix(int64(when), 0).UTC()}
		return nil
	case name == "PROCESS_LOG_STDOUT" || name == "PROCESS_LOG_STDERR":
		proc, group, pid, err := dataEvent(fields, ferr, hasData, "process log")
		if err != nil {
			return err
		}
		ch := fields["channel"]
		if ch == "" {
			ch = strings.ToLower(name[len("PROCESS_LOG_"):]) // Go supervisord sends no channel
		}
		ev.Log = &ProcessLog{Process: proc, Group: group, PID: pid, Channel: ch, Data: data}
		return nil
	case name == "PROCESS_COMMUNICATION_STDOUT" || name == "PROCESS_COMMUNICATION_STDERR":
		proc, group, pid, err := dataEvent(fields, ferr, hasData, "process communication")
		if err != nil {
			return err
		}
		ch := strings.ToLower(name[len("PROCESS_COMMUNICATION_"):])
		ev.Comm = &ProcessComm{Process: proc, Group: group, PID: pid, Channel: ch, Data: data}
		return nil
	case strings.HasPrefix(name, prefixSupervisor) && len(name) > len(prefixSupervisor):
		ev.Supervisor = &SupervisorState{State: name[len(prefixSupervisor):]}
		return nil
	case name == "PROCESS_GROUP_ADDED" || name == "PROCESS_GROUP_REMOVED":
		if ferr != nil {
			return ferr
		}
		g := fields["groupname"]
		if g == "" {
			return errors.New("process group: no groupname")
		}
		ev.Group = &ProcessGroup{Group: g, Added: name == "PROCESS_GROUP_ADDED"}
		return nil
	}
	// Unknown event: passed through; a token line that does not parse is
	// not an error, it just yields no fields.
	if ferr != nil {
		ev.Fields = map[string]string{}
	}
	return nil
}

func isTick(name string) bool {
	digits, ok := strings.CutPrefix(name, prefixTick)
	if !ok || digits == "" || len(digits) > 9 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

func parseState(ev *Event, to string) error {
	f := ev.Fields
	proc, group, pid, err := processFields(f)
	if err != nil {
		return err
	}
	from, ok := f["from_state"]
	if !ok || from == "" {
		return errors.New("process state: no from_state")
	}
	tries, err := intField(f, "tries", false)
	if err != nil {
		return err
	}
	s := &ProcessState{
		Process:   proc,
		Group:     group,
		FromState: strings.ToUpper(from), // Go supervisord: "Running"
		ToState:   strings.ToUpper(to),
		PID:       pid,
		Tries:     tries,
	}
	if v, ok := f["expected"]; ok {
		switch v {
		case "0":
		case "1":
			s.Expected = true
		default:
			return fmt.Errorf("process state expected %q: want 0 or 1", v)
		}
		s.HasExpected = true
	}
	ev.State = s
	return nil
}

// processFields returns processname, groupname (the process name when empty,
// as Go supervisord sends it) and pid (0 when absent).
func processFields(f map[string]string) (proc, group string, pid int, err error) {
	proc = f["processname"]
	if proc == "" {
		return "", "", 0, errors.New("no processname")
	}
	group = f["groupname"]
	if group == "" {
		group = proc
	}
	pid, err = intField(f, "pid", false)
	return proc, group, pid, err
}

func intField(f map[string]string, key string, required bool) (int, error) {
	v, ok := f[key]
	if !ok {
		if required {
			return 0, fmt.Errorf("no %s", key)
		}
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q: want a non-negative integer", key, v)
	}
	return n, nil
}

// parseFields splits a token line into key:value fields at the first colon
// of each space-separated token. As in ParseHeader, a token without a colon
// continues the previous value. It always returns a non-nil map.
func parseFields(line string) (map[string]string, error) {
	f := make(map[string]string, 6)
	if line == "" {
		return f, nil
	}
	prev := ""
	for tok := range strings.SplitSeq(line, " ") {
		key, val, ok := strings.Cut(tok, ":")
		if !ok {
			if prev == "" {
				return f, fmt.Errorf("token %q: no colon", tok)
			}
			f[prev] += " " + tok
			continue
		}
		if key == "" {
			return f, fmt.Errorf("token %q: empty key", tok)
		}
		if _, dup := f[key]; dup {
			return f, fmt.Errorf("token %q: %s given twice", tok, key)
		}
		f[key] = val
		prev = key
	}
	return f, nil
}
