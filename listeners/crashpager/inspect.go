package main

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/superguard/superguard/pkg/supervisor"
)

// Supervisor is the part of the supervisord XML-RPC client crashpager
// calls (a *supervisor.Client satisfies it).
type Supervisor interface {
	GetProcessInfo(ctx context.Context, name string) (supervisor.ProcessInfo, error)
	GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error)
	TailProcessStderrLog(ctx context.Context, name string, offset, length int) (supervisor.Tail, error)
	Multicall(ctx context.Context, calls []supervisor.Call) ([]supervisor.CallResult, error)
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

// inspect asks supervisord, concurrently and within timeout, for the
// process's info, the tail of its stderr log (tailBytes > 0) and, when
// wantExit, the last "exited:" line supervisord logged for it. The exit
// status in getProcessInfo is only meaningful while the process is still
// EXITED, and an autorestarted program is usually STARTING again by the
// time its EXITED event is handled; the main log keeps it. What does not
// arrive in time is left out: a slow supervisord never holds the ack long.
func inspect(ctx context.Context, sv Supervisor, group, process string, tailBytes int, wantExit bool, timeout time.Duration) inspection {
	var in inspection
	if sv == nil {
		return in
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := group + ":" + process
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	fail := func(what string, err error) {
		mu.Lock()
		in.errs = append(in.errs, what+": "+err.Error())
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		info, err := sv.GetProcessInfo(ctx, name)
		if err != nil {
			fail("getProcessInfo", err)
			return
		}
		mu.Lock()
		in.info = &info
		mu.Unlock()
	}()
	if tailBytes > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := sv.TailProcessStderrLog(ctx, name, 0, tailBytes)
			if err != nil {
				fail("tailProcessStderrLog", err)
				return
			}
			mu.Lock()
			in.tail = cleanTail(t.Data, t.Overflow)
			mu.Unlock()
		}()
	}
	if wantExit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := sv.Multicall(ctx, []supervisor.Call{{Method: "supervisor.readLog", Params: []any{-mainLogTail, 0}}})
			if err == nil && res[0].Err != nil {
				err = res[0].Err
			}
			if err != nil {
				fail("readLog", err)
				return
			}
			text, _ := res[0].Value.(string)
			msg := lastExit(text, process)
			mu.Lock()
			in.exitMsg = msg
			mu.Unlock()
		}()
	}
	wg.Wait()
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
