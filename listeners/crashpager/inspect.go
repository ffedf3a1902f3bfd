package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/supervisor"
)

// Supervisor is the part of the supervisord XML-RPC client crashpager
// calls while handling an event (a *supervisor.Client satisfies it).
type Supervisor interface {
	Multicall(ctx context.Context, calls []supervisor.Call) ([]supervisor.CallResult, error)
	GetProcessInfo(ctx context.Context, name string) (supervisor.ProcessInfo, error)
	TailProcessStderrLog(ctx context.Context, name string, offset, length int) (supervisor.Tail, error)
}

// mainLogTail is how much of supervisord's main log is read to find a
// process's last exit line.
const mainLogTail = 16 << 10

// inspection is what supervisord could tell about a process within the
// deadline; every part is optional.
type inspection struct {
	info    *supervisor.ProcessInfo
	tail    string // end of the process's stderr log
	exitMsg string // "exit status 3", "terminated by SIGKILL", from the main log
	errs    []string
}

func (in *inspection) fail(what string, err error) { in.errs = append(in.errs, what+": "+err.Error()) }

// inspect asks supervisord, within timeout and in one round trip
// (system.multicall), for the process's info, the tail of its stderr log
// (tailBytes > 0) and, when wantExit, the last "exited:" line supervisord
// logged for it. The exit status in getProcessInfo is only meaningful while
// the process is still EXITED, and an autorestarted program is usually
// STARTING again by the time its EXITED event is handled; the main log
// keeps it. What does not arrive in time is left out: a slow supervisord
// never holds the ack long. A server without system.multicall gets the
// info and tail calls one by one.
func inspect(ctx context.Context, sv Supervisor, group, process string, tailBytes int, wantExit bool, timeout time.Duration) inspection {
	var in inspection
	if sv == nil {
		return in
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := group + ":" + process
	calls := []supervisor.Call{{Method: "supervisor.getProcessInfo", Params: []any{name}}}
	if tailBytes > 0 {
		calls = append(calls, supervisor.Call{Method: "supervisor.tailProcessStderrLog", Params: []any{name, 0, tailBytes}})
	}
	if wantExit {
		calls = append(calls, supervisor.Call{Method: "supervisor.readLog", Params: []any{-mainLogTail, 0}})
	}
	res, err := sv.Multicall(ctx, calls)
	if err != nil {
		if !supervisor.IsFault(err, supervisor.FaultUnknownMethod) {
			in.fail("multicall", err)
			return in
		}
		return inspectOneByOne(ctx, sv, name, tailBytes)
	}
	for i, r := range res {
		method := strings.TrimPrefix(calls[i].Method, "supervisor.")
		if r.Err != nil {
			in.fail(method, r.Err)
			continue
		}
		switch i {
		case 0:
			info, err := supervisor.DecodeProcessInfo(r.Value)
			if err != nil {
				in.fail(method, err)
				continue
			}
			in.info = &info
		default:
			if calls[i].Method == "supervisor.readLog" {
				text, _ := supervisor.DecodeLog(r.Value)
				in.exitMsg = lastExit(text, process)
				continue
			}
			t, err := supervisor.DecodeTail(r.Value)
			if err != nil {
				in.fail(method, err)
				continue
			}
			in.tail = cleanTail(t.Data, t.Overflow)
		}
	}
	return in
}

// inspectOneByOne is inspect for a server without system.multicall.
func inspectOneByOne(ctx context.Context, sv Supervisor, name string, tailBytes int) inspection {
	var in inspection
	info, err := sv.GetProcessInfo(ctx, name)
	if err != nil {
		in.fail("getProcessInfo", err)
	} else {
		in.info = &info
	}
	if tailBytes > 0 {
		t, err := sv.TailProcessStderrLog(ctx, name, 0, tailBytes)
		if err != nil {
			in.fail("tailProcessStderrLog", err)
		} else {
			in.tail = cleanTail(t.Data, t.Overflow)
		}
	}
	return in
}

// cleanTail makes a log tail fit for an alert: valid UTF-8, and starting at
// a line boundary when the read began mid-log.
func cleanTail(s string, cut bool) string {
	if cut {
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
	}
	return strings.TrimRight(strings.ToValidUTF8(s, "\uFFFD"), "\n")
}

// lastExit finds the last line supervisord logged when process exited,
// "... exited: NAME (exit status 3; not expected)", and returns what is in
// the parentheses before the "; expected" part: "exit status 3" or
// "terminated by SIGSEGV (core dumped)". It returns "" when there is none.
// supervisord logs the bare process name, so two groups with a process of
// the same name cannot be told apart here.
func lastExit(log, process string) string {
	marker := "exited: " + process + " ("
	i := strings.LastIndex(log, marker)
	if i < 0 {
		return ""
	}
	line := log[i+len(marker):]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	j := strings.LastIndex(line, "; ")
	if j < 0 {
		return ""
	}
	return line[:j]
}

// exitStatusOf returns the numeric status in an exit message such as
// "exit status 3", or false for a signal or an unknown cause.
func exitStatusOf(msg string) (int, bool) {
	s, ok := strings.CutPrefix(msg, "exit status ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
