package harness

import (
	"cmp"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/confdoctor"
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

// Fleet is n processes of one program, name_000 to name_<n-1>, as the
// benchmarks start them by the hundred: RUNNING at once (startsecs=0), not
// restarted, output discarded; extra lines are appended as they are.
func Fleet(name, command string, n int, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n[program:%s]\ncommand=%s\nprocess_name=%s_%%(process_num)03d\nnumprocs=%d\nstartsecs=0\nautorestart=false\n",
		name, command, name, n)
	for _, line := range extra {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Guard is one superguard listener of a scenario: its binary's name, the
// YAML body of its section under listeners: (may be empty), its buffer
// and extra lines for its conf section.
type Guard struct {
	Name, Body string
	BufferSize int // Listener's default when 0
	Extra      []string
}

// Guards renders a scenario's superguard.yaml and the guards' conf
// sections: host, the state store in the scenario directory, supervisord's
// URL, every alert to a log sink, a one-second dedup window without
// reminders or flap damping; each guard subscribed to the events the conf
// doctor requires of it (confdoctor.Needs), haltguard at priority 1 so the
// kill switch hears a death first.
func Guards(host string, guards ...Guard) (yaml, conf string) {
	yaml = "host: " + host + "\nstate_path: {{.Dir}}/state.db\nsupervisor:\n  url: {{.URL}}\n" +
		"sinks:\n  - {name: log, type: log}\nroutes:\n  - sinks: [log]\n" +
		"dedup: {window: 1s, reminder: 0s, flap: {changes: 0}}\nlisteners:\n"
	for _, g := range guards {
		if strings.TrimSpace(g.Body) == "" {
			yaml += "  " + g.Name + ": {}\n"
		} else {
			yaml += "  " + g.Name + ":\n" + Indent(g.Body, "    ")
		}
		l := Listener{Name: g.Name, Command: ListenerCommand(g.Name), Events: strings.Join(confdoctor.Needs[g.Name], ","),
			BufferSize: g.BufferSize, Extra: g.Extra}
		if g.Name == "haltguard" {
			l.Priority = 1
		}
		conf += l.Section()
	}
	return yaml, conf
}

// ReadyWithin bounds StartGuards' wait for the first guard's ready line:
// generous, for a loaded machine; the wait ends as soon as the line is
// there.
const ReadyWithin = 2 * time.Minute

// StartGuards starts a scenario whose superguard listeners are guards:
// their conf sections (Guards) go before o.Sections and their
// superguard.yaml into o.Files, and it returns once the first guard has
// logged "<name> ready", i.e. has read its configuration and serves
// events.
func StartGuards(t testing.TB, host string, o Options, guards ...Guard) *Supervisord {
	t.Helper()
	yaml, conf := Guards(host, guards...)
	o.Sections = conf + "\n" + o.Sections
	o.Files = maps.Clone(o.Files)
	if o.Files == nil {
		o.Files = map[string]string{}
	}
	o.Files["superguard.yaml"] = yaml
	s := Start(t, o)
	first := guards[0].Name
	s.WaitListenerLog(t, first, `"message":"`+first+` ready"`, ReadyWithin)
	return s
}
