package harness

import (
	"cmp"
	"fmt"
	"strings"
)

// Listener is an [eventlistener:Name] section as superguard ships them: a
// generous buffer, a priority above the programs it watches, restarted when
// it dies, nothing but the protocol on stdout, and stderr in
// {{.Dir}}/Name.err.
type Listener struct {
	Name    string
	Command string // a template, e.g. {{bin "./listeners/haltguard"}} -config {{.Dir}}/superguard.yaml
	Events  string // supervisord's events= value
	// BufferSize defaults to 1024, Priority to 1000 (so 0 cannot be asked
	// for), StopWaitSecs to 10.
	BufferSize, Priority, StopWaitSecs int
	// Extra lines (environment=..., and so on), appended as they are.
	Extra []string
}

// Section renders the listener's conf section, with a blank line before it.
func (l Listener) Section() string {
	l.BufferSize = cmp.Or(l.BufferSize, 1024)
	l.Priority = cmp.Or(l.Priority, 1000)
	l.StopWaitSecs = cmp.Or(l.StopWaitSecs, 10)
	var b strings.Builder
	fmt.Fprintf(&b, "\n[eventlistener:%s]\ncommand=%s\nevents=%s\nbuffer_size=%d\npriority=%d\n",
		l.Name, l.Command, l.Events, l.BufferSize, l.Priority)
	fmt.Fprintf(&b, "autorestart=true\nstartsecs=1\nstopwaitsecs=%d\nstdout_logfile=NONE\nstderr_logfile={{.Dir}}/%s.err\n",
		l.StopWaitSecs, l.Name)
	for _, line := range l.Extra {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Program is a [program:Name] section as the scenarios write them:
// started with supervisord, RUNNING after a second, restarted whenever it
// exits, stderr in {{.Dir}}/Name.err.
type Program struct {
	Name    string
	Command string // a template, like Listener's
	// Extra lines (environment=..., stdout_capture_maxbytes=..., ...),
	// appended as they are.
	Extra []string
}

// Section renders the program's conf section, with a blank line before it.
func (p Program) Section() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n[program:%s]\ncommand=%s\nstartsecs=1\nautorestart=true\nstderr_logfile={{.Dir}}/%s.err\n", p.Name, p.Command, p.Name)
	for _, line := range p.Extra {
		b.WriteString(line + "\n")
	}
	return b.String()
}
