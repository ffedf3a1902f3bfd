package confdoctor

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/superguard/superguard/pkg/procmatch"
)

// Finding is one problem of the conf, with where it is.
type Finding struct {
	File, Section, Message string
}

func (f Finding) String() string {
	if f.Section == "" {
		return f.File + ": " + f.Message
	}
	return f.File + " [" + f.Section + "]: " + f.Message
}

// Needs are the event types each listener must be subscribed to, by the
// name of its binary. eventlog logs whatever it gets: it needs none.
//   - crashpager: PROCESS_STATE (the exits, FATAL and recoveries it
//     alerts on) and TICK_5 (its heartbeat, outbox and watchdog rounds).
//   - haltguard: PROCESS_STATE (a critical program's first EXITED halts),
//     TICK_5 (the safety net: every tick it reads every process's state)
//     and REMOTE_COMMUNICATION (the remote switch, superguard.halt).
//   - healthprobe: TICK_5 (the probe rounds), PROCESS_STATE (start-up
//     grace and cool-down start with RUNNING) and PROCESS_COMMUNICATION
//     (heartbeats sent as XSUPERVISOR frames on a strategy's stdout).
//   - memguard: TICK_5 (the sampling rounds) and PROCESS_STATE (a
//     restarted process's trend starts afresh).
//   - exporter: PROCESS_STATE (the counters and states it serves) and
//     TICK_5 (its refresh of uptimes and the guard's health).
var Needs = map[string][]string{
	"crashpager":  {"PROCESS_STATE", "TICK_5"},
	"haltguard":   {"PROCESS_STATE", "TICK_5", "REMOTE_COMMUNICATION"},
	"healthprobe": {"TICK_5", "PROCESS_STATE", "PROCESS_COMMUNICATION"},
	"memguard":    {"TICK_5", "PROCESS_STATE"},
	"exporter":    {"PROCESS_STATE", "TICK_5"},
	"marketclock": {"TICK_60"},
	"eventlog":    nil,
}

// EventsPerProcess is the events a burst can queue per process (a halt
// or restart: STOPPING, STOPPED, STARTING, RUNNING), the base of the
// buffer_size rule.
const EventsPerProcess = 4

// Input is what the doctor knows besides the conf: superguard.yaml's
// haltguard section (nil fields when absent) and whether that file holds
// supervisord's credentials.
type Input struct {
	// Critical and Targets are listeners.haltguard's patterns.
	Critical, Targets []string
	// Latches are haltguard's latch files (the gate must read them).
	Latches []string
	// FileCredentials: superguard.yaml's supervisor: section has a
	// username and password, the listeners' fallback.
	FileCredentials bool
}

// Listener is a superguard listener the conf runs.
type Listener struct {
	Binary string // crashpager, haltguard, ...
	Process
}

// Listeners are the [eventlistener:x] sections whose command runs a
// superguard binary, whatever the section is called.
func (c *Conf) Listeners() []Listener {
	var out []Listener
	for _, p := range c.Processes() {
		if p.Section.Kind() != "eventlistener" {
			continue
		}
		if bin := filepath.Base(firstWord(p.Command)); hasNeeds(bin) {
			out = append(out, Listener{Binary: bin, Process: p})
		}
	}
	return out
}

func hasNeeds(bin string) bool {
	_, ok := Needs[bin]
	return ok
}

func firstWord(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[0], `"'`)
}

// Diagnose returns the conf's findings, in a stable order.
func (c *Conf) Diagnose(in Input) []Finding {
	out := slices.Clone(c.problems)
	add := func(s *Section, format string, args ...any) {
		out = append(out, Finding{File: s.File, Section: s.Name, Message: fmt.Sprintf(format, args...)})
	}
	procs := c.Processes()
	var programs []Process
	for _, p := range procs {
		if p.Section.Kind() == "program" {
			programs = append(programs, p)
		}
	}
	seen := map[*Section]bool{}
	for _, l := range c.Listeners() {
		s := l.Section
		if seen[s] {
			continue // numprocs: one finding per section
		}
		seen[s] = true
		c.diagnoseListener(l, procs, programs, in, add)
	}
	c.diagnoseTrading(procs, in, add)
	return out
}

func (c *Conf) diagnoseListener(l Listener, procs, programs []Process, in Input, add func(*Section, string, ...any)) {
	s := l.Section
	if path := firstWord(l.Command); filepath.IsAbs(path) {
		if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			add(s, "command=%s: not an executable file here (supervisord marks the listener FATAL at start): install it (make install) or fix the path", path)
		}
	}
	if v := s.Get("stdout_logfile", "AUTO"); !strings.EqualFold(v, "NONE") {
		add(s, "stdout_logfile=%s: a listener's stdout carries the protocol and must not be logged; set stdout_logfile=NONE", v)
	}
	if truthy(s.Get("redirect_stderr", "false")) {
		add(s, "redirect_stderr=true: the listener's logs would enter the protocol stream and supervisord would stop sending it events; remove it and set stderr_logfile")
	}
	if want := max(10, EventsPerProcess*len(procs)); s.Int("buffer_size", 10) < want {
		add(s, "buffer_size=%d is too small for %d processes: a halt or restart queues up to %d events per process and supervisord drops the oldest on overflow; set buffer_size=%d or more (1024 is shipped)",
			s.Int("buffer_size", 10), len(procs), EventsPerProcess, want)
	}
	events := strings.Split(s.Get("events", ""), ",")
	for i := range events {
		events[i] = strings.ToUpper(strings.TrimSpace(events[i]))
	}
	for _, need := range Needs[l.Binary] {
		if !covers(events, need) {
			add(s, "events=%s lacks %s, which %s needs (%s); add it", s.Get("events", ""), need, l.Binary, why[need])
		}
	}
	prio := s.Int("priority", 999)
	for _, p := range watched(l.Binary, programs, in) {
		if pp := p.Section.Int("priority", 999); pp > prio {
			add(s, "priority=%d is below %s's priority=%d: supervisord hands a program's events to a listener of lower priority one loop turn (about 1 s) later; set priority=%d or more (1000 is shipped)",
				prio, p.FullName(), pp, pp)
			break
		}
	}
	if srv := c.server(); srv != nil && srv.Get("username", "") != "" && !in.FileCredentials {
		env := l.Section.Env()
		_, user := env["SUPERVISOR_USERNAME"]
		_, pass := env["SUPERVISOR_PASSWORD"]
		_, passFile := env["SUPERVISOR_PASSWORD_FILE"]
		if !user || !(pass || passFile) {
			add(s, "[%s] requires a username but environment= does not pass SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD_FILE (supervisord gives its children no credentials): every XML-RPC call would fail with 401; add environment=SUPERVISOR_USERNAME=\"...\",SUPERVISOR_PASSWORD_FILE=\"/etc/superguard/secrets/supervisor.pass\" or set superguard.yaml's supervisor: username and password_file",
				srv.Name)
		}
	}
}

// why says, for a finding, what an event type is for.
var why = map[string]string{
	"PROCESS_STATE":         "the exits and restarts it reacts to",
	"TICK_5":                "its rounds and safety net every 5 s",
	"REMOTE_COMMUNICATION":  "the remote halt switch",
	"PROCESS_COMMUNICATION": "heartbeats on the strategies' stdout",
}

// covers says whether an events= list delivers need: the type itself,
// a parent (PROCESS_STATE covers PROCESS_STATE_EXITED) or EVENT.
func covers(events []string, need string) bool {
	for _, e := range events {
		if e == need || e == "EVENT" || strings.HasPrefix(need, e+"_") {
			return true
		}
	}
	return false
}

// watched are the programs whose events a listener must get without
// delay: haltguard's critical programs (when known), every program for the
// others.
func watched(bin string, programs []Process, in Input) []Process {
	if bin != "haltguard" || len(in.Critical) == 0 {
		return programs
	}
	var out []Process
	for _, p := range programs {
		if procmatch.Any(in.Critical, p.Group, p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// server is the XML-RPC server a child reaches: supervisord sets
// SUPERVISOR_SERVER_URL to the unix socket when there is one, else to the
// inet server.
func (c *Conf) server() *Section {
	if s := c.section("unix_http_server"); s != nil {
		return s
	}
	return c.section("inet_http_server")
}

// diagnoseTrading checks haltguard's targets and critical programs.
func (c *Conf) diagnoseTrading(procs []Process, in Input, add func(*Section, string, ...any)) {
	seen := map[*Section]bool{}
	for _, p := range procs {
		s := p.Section
		if s.Kind() != "program" || seen[s] {
			continue
		}
		switch {
		case procmatch.Any(in.Targets, p.Group, p.Name) && !procmatch.Any(in.Critical, p.Group, p.Name):
			seen[s] = true
			f := strings.Fields(p.Command)
			if len(f) < 2 || filepath.Base(strings.Trim(f[0], `"'`)) != "haltguard" || f[1] != "gate" {
				add(s, "%s is a haltguard target but does not start through the halt gate: while trading is halted, a start (a person, a script, supervisord at boot) would trade; write command=/usr/local/bin/haltguard gate -latch %s -- %s",
					p.FullName(), strings.Join(in.Latches, ","), p.Command)
			} else if missing := missingLatches(f, in.Latches); len(missing) > 0 {
				add(s, "the gate's -latch does not read %s, where haltguard records a halt: a halt recorded only there would not stop this start; write -latch %s",
					strings.Join(missing, ","), strings.Join(in.Latches, ","))
			}
			switch u := s.Get("user", ""); u {
			case "":
				add(s, "%s has no user=: it runs as supervisord's own user, root under superguard.service, and a strategy as root can read superguard's secrets and undo a halt; set user= to its own account (e.g. user=trading)",
					p.FullName())
			case "root", "0":
				add(s, "%s runs as root (user=%s): a strategy as root can read superguard's secrets and undo a halt; set user= to its own account (e.g. user=trading)",
					p.FullName(), u)
			}
		case procmatch.Any(in.Critical, p.Group, p.Name):
			seen[s] = true
			if v := s.Get("autorestart", "unexpected"); falsy(v) {
				add(s, "%s is critical but autorestart=false: after it dies it stays down, and trading stays halted until a person starts it; set autorestart=true", p.FullName())
			}
			if v := s.Get("autostart", "true"); falsy(v) {
				add(s, "%s is critical but autostart=false: it is not running after a boot, so haltguard halts trading when startup_grace ends; set autostart=true", p.FullName())
			}
			if s.Int("startretries", 3) < 1 {
				add(s, "%s is critical but startretries=%d: one slow start makes it FATAL for good (trading halted until a person intervenes); set startretries=3 or more", p.FullName(), s.Int("startretries", 3))
			}
		}
	}
}

// truthy and falsy read a boolean as supervisord does.
func truthy(v string) bool {
	return slices.Contains([]string{"true", "yes", "on", "1"}, strings.ToLower(strings.TrimSpace(v)))
}

func falsy(v string) bool {
	return slices.Contains([]string{"false", "no", "off", "0"}, strings.ToLower(strings.TrimSpace(v)))
}

// missingLatches are the latch files the gate's -latch does not name (none
// when the gate reads the config instead).
func missingLatches(args, latches []string) []string {
	var given []string
	for i, a := range args {
		if a == "--" {
			break
		}
		v, ok := "", false
		switch {
		case (a == "-latch" || a == "--latch") && i+1 < len(args):
			v, ok = args[i+1], true
		case strings.HasPrefix(a, "-latch="), strings.HasPrefix(a, "--latch="):
			_, v, _ = strings.Cut(a, "=")
			ok = true
		}
		if ok {
			given = append(given, strings.Split(v, ",")...)
		}
	}
	if len(given) == 0 {
		return nil
	}
	var missing []string
	for _, l := range latches {
		if !slices.Contains(given, l) {
			missing = append(missing, l)
		}
	}
	return missing
}
