// Package probe runs one health probe against one supervised process and
// says what it saw: an HTTP request (status, body text or pattern, JSON
// assertions, a data timestamp's age), a TCP connect, a command, or a
// file's age. It knows nothing of events, YAML or alerts; healthprobe
// decides what a run of results means.
package probe

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Process is the supervised process a probe is about; its fields fill
// the %(...)s placeholders of URLs, addresses, paths and commands.
type Process struct {
	Group, Name string
	PID         int
}

// Num is the process number: the digits that end the process name
// (supervisord's process_name=%(program_name)s_%(process_num)02d), 0 when
// there are none.
func (p Process) Num() int {
	_, num := p.split()
	return num
}

// Program is the process name without its process number suffix.
func (p Process) Program() string {
	prog, _ := p.split()
	return prog
}

func (p Process) split() (string, int) {
	i := len(p.Name)
	for i > 0 && p.Name[i-1] >= '0' && p.Name[i-1] <= '9' {
		i--
	}
	if i == len(p.Name) || i == 0 {
		return p.Name, 0
	}
	n, err := strconv.Atoi(p.Name[i:])
	if err != nil {
		return p.Name, 0
	}
	return strings.TrimSuffix(p.Name[:i], "_"), n
}

// FullName is "group:name".
func (p Process) FullName() string { return p.Group + ":" + p.Name }

// placeholder is supervisord's expansion syntax: %(name)s, %(name)d,
// %(name)02d.
var placeholder = regexp.MustCompile(`%\(([a-z_]+)\)(-?[0-9]*[sd])`)

// Placeholders are the names Expand knows.
var Placeholders = []string{"group_name", "process_name", "program_name", "process_num", "pid"}

// Expand fills supervisord-style placeholders in s from p:
// %(group_name)s, %(process_name)s, %(program_name)s, %(process_num)d (or
// 02d, ...) and %(pid)d.
func Expand(s string, p Process) string {
	if !strings.Contains(s, "%(") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		var v any
		switch sub[1] {
		case "group_name":
			v = p.Group
		case "process_name":
			v = p.Name
		case "program_name":
			v = p.Program()
		case "process_num":
			v = p.Num()
		case "pid":
			v = p.PID
		default:
			return m
		}
		return fmt.Sprintf("%"+sub[2], v)
	})
}

// CheckTemplate reports a placeholder Expand does not know, or a verb that
// does not fit its value.
func CheckTemplate(s string) error {
	for _, sub := range placeholder.FindAllStringSubmatch(s, -1) {
		name, verb := sub[1], sub[2][len(sub[2])-1]
		switch name {
		case "group_name", "process_name", "program_name":
			if verb != 's' {
				return fmt.Errorf("%%(%s)%s: a name takes s", name, sub[2])
			}
		case "process_num", "pid":
			if verb != 'd' {
				return fmt.Errorf("%%(%s)%s: a number takes d (e.g. %%(%s)02d)", name, sub[2], name)
			}
		default:
			return fmt.Errorf("%%(%s)%s: unknown placeholder (known: %s)", name, sub[2], strings.Join(Placeholders, ", "))
		}
	}
	return nil
}

// Result is what one probe saw.
type Result struct {
	OK bool
	// At is when the probe started; Latency how long it took.
	At      time.Time
	Latency time.Duration
	// Evidence says what was wrong (or, when OK, what was seen), in one
	// line for humans: "HTTP 500", "md_lag_ms < 500 is false
	// (md_lag_ms=2150)", "no answer within 2s", "connection refused".
	Evidence string
	// Status is the HTTP status (0 for other probes or no answer).
	Status int
	// Body is the start of the body or the command's output (unscrubbed:
	// the caller scrubs secrets before storing or sending it).
	Body string
	// Age is the age of the data timestamp or file, when checked; Skew is
	// how far a timestamp was ahead of this host's clock (0 when not).
	Age, Skew time.Duration
}

// Prober runs one kind of probe.
type Prober interface {
	// Probe probes p within ctx's deadline.
	Probe(ctx context.Context, p Process) Result
	// Kind names the probe ("http", "tcp", "command", "file").
	Kind() string
}

// finish fills in the latency and returns r.
func finish(r Result) Result {
	r.Latency = time.Since(r.At)
	return r
}

// timeoutText says how long a probe waited, from ctx's deadline.
func timeoutText(ctx context.Context, start time.Time) string {
	if dl, ok := ctx.Deadline(); ok {
		return fmt.Sprintf("no answer within %s", dl.Sub(start).Round(time.Millisecond))
	}
	return "no answer before the probe was cancelled"
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
