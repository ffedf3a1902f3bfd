package confdoctor

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/superguard/superguard/pkg/config"
)

// shipped is haltguard's section of the shipped superguard.yaml, as Input.
var shipped = Input{
	Critical: []string{"risk_manager"},
	Targets:  []string{"trading"},
	Latches:  []string{"/var/lib/superguard/halt.latch", "/run/superguard/halt.latch"},
}

// findings loads testdata/dir and returns its findings with the testdata
// directory written as "testdata".
func findings(t *testing.T, dir string, in Input) []string {
	t.Helper()
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join("testdata", dir, "supervisord.conf"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var out []string
	for _, f := range c.Diagnose(in) {
		out = append(out, strings.ReplaceAll(f.String(), abs, "testdata"))
	}
	return out
}

func TestGoodConfHasNoFindings(t *testing.T) {
	if got := findings(t, "good", shipped); len(got) != 0 {
		t.Errorf("findings in a good conf:\n%s", strings.Join(got, "\n"))
	}
}

// TestIncludeLikeSupervisord: the [include] glob is Python's (the Go
// supervisord's config package would also read notes.conf.example), and
// numprocs processes are numbered from numprocs_start with process_name.
func TestIncludeLikeSupervisord(t *testing.T) {
	c, err := Load("testdata/good/supervisord.conf")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range c.Files {
		files = append(files, filepath.Base(f))
	}
	if want := []string{"supervisord.conf", "haltguard.conf", "trading.conf"}; !slices.Equal(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	var names []string
	for _, p := range c.Processes() {
		names = append(names, p.FullName())
	}
	slices.Sort(names)
	if want := []string{"haltguard:haltguard", "risk_manager:risk_manager", "trading:strat_01", "trading:strat_02"}; !slices.Equal(names, want) {
		t.Errorf("processes %v, want %v", names, want)
	}
	for _, p := range c.Processes() {
		if p.Name == "strat_02" && !strings.HasSuffix(p.Command, "--instance 2") {
			t.Errorf("strat_02's command %q: process_num not expanded", p.Command)
		}
		if p.Name == "haltguard" && strings.Contains(p.Command, ";") {
			t.Errorf("inline comment kept in %q", p.Command)
		}
	}
}

func TestFindings(t *testing.T) {
	const conf = "testdata/listener/supervisord.conf"
	want := []string{
		conf + ` [eventlistener:guard]: command=/nonexistent/bin/haltguard: not an executable file here (supervisord marks the listener FATAL at start): install it (make install) or fix the path`,
		conf + ` [eventlistener:guard]: stdout_logfile=AUTO: a listener's stdout carries the protocol and must not be logged; set stdout_logfile=NONE`,
		conf + ` [eventlistener:guard]: redirect_stderr=true: the listener's logs would enter the protocol stream and supervisord would stop sending it events; remove it and set stderr_logfile`,
		conf + ` [eventlistener:guard]: buffer_size=10 is too small for 4 processes: a halt or restart queues up to 4 events per process and supervisord drops the oldest on overflow; set buffer_size=16 or more (1024 is shipped)`,
		conf + ` [eventlistener:guard]: events=PROCESS_STATE_EXITED,TICK_60 lacks PROCESS_STATE, which haltguard needs (the exits and restarts it reacts to); add it`,
		conf + ` [eventlistener:guard]: events=PROCESS_STATE_EXITED,TICK_60 lacks TICK_5, which haltguard needs (its rounds and safety net every 5 s); add it`,
		conf + ` [eventlistener:guard]: events=PROCESS_STATE_EXITED,TICK_60 lacks REMOTE_COMMUNICATION, which haltguard needs (the remote halt switch); add it`,
		conf + ` [eventlistener:guard]: priority=-1 is below risk_manager:risk_manager's priority=999: supervisord hands a program's events to a listener of lower priority one loop turn (about 1 s) later; set priority=999 or more (1000 is shipped)`,
		conf + ` [eventlistener:guard]: [inet_http_server] requires a username but environment= does not pass SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD_FILE (supervisord gives its children no credentials): every XML-RPC call would fail with 401; add environment=SUPERVISOR_USERNAME="...",SUPERVISOR_PASSWORD_FILE="/etc/superguard/secrets/supervisor.pass" or set superguard.yaml's supervisor: username and password_file`,
		conf + ` [eventlistener:pager]: stdout_logfile=AUTO: a listener's stdout carries the protocol and must not be logged; set stdout_logfile=NONE`,
		conf + ` [eventlistener:pager]: buffer_size=10 is too small for 4 processes: a halt or restart queues up to 4 events per process and supervisord drops the oldest on overflow; set buffer_size=16 or more (1024 is shipped)`,
		conf + ` [eventlistener:pager]: [inet_http_server] requires a username but environment= does not pass SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD_FILE (supervisord gives its children no credentials): every XML-RPC call would fail with 401; add environment=SUPERVISOR_USERNAME="...",SUPERVISOR_PASSWORD_FILE="/etc/superguard/secrets/supervisor.pass" or set superguard.yaml's supervisor: username and password_file`,
		conf + ` [program:risk_manager]: risk_manager:risk_manager is critical but autorestart=false: after it dies it stays down, and trading stays halted until a person starts it; set autorestart=true`,
		conf + ` [program:risk_manager]: risk_manager:risk_manager is critical but autostart=false: it is not running after a boot, so haltguard halts trading when startup_grace ends; set autostart=true`,
		conf + ` [program:risk_manager]: risk_manager:risk_manager is critical but startretries=0: one slow start makes it FATAL for good (trading halted until a person intervenes); set startretries=3 or more`,
		conf + ` [program:strat_a]: strat_a:strat_a is a haltguard target but does not start through the halt gate: while trading is halted, a start (a person, a script, supervisord at boot) would trade; write command=/usr/local/bin/haltguard gate -latch /var/lib/superguard/halt.latch,/run/superguard/halt.latch -- /opt/trading/bin/strat_a`,
		conf + ` [program:strat_a]: strat_a:strat_a runs as root (user=root): a strategy as root can read superguard's secrets and undo a halt; set user= to its own account (e.g. user=trading)`,
	}
	in := shipped
	in.Targets = []string{"strat_a"}
	got := findings(t, "listener", in)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Credentials in superguard.yaml's supervisor: section are the
	// listeners' fallback: no credentials finding then.
	in.FileCredentials = true
	for _, f := range findings(t, "listener", in) {
		if strings.Contains(f, "requires a username") {
			t.Errorf("credentials finding with the file's credentials: %s", f)
		}
	}
}

// TestGateLatches: a gate that reads a latch list without haltguard's
// mirror would let a strategy start during a halt recorded only there.
func TestGateLatches(t *testing.T) {
	in := shipped
	in.Latches = []string{"/var/lib/superguard/halt.latch", "/run/elsewhere/halt.latch"}
	got := findings(t, "good", in)
	want := []string{
		`testdata/good/conf.d/trading.conf [program:strat]: the gate's -latch does not read /run/elsewhere/halt.latch, where haltguard records a halt: a halt recorded only there would not stop this start; write -latch /var/lib/superguard/halt.latch,/run/elsewhere/halt.latch`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUnreadable: supervisord refuses to start when an included file
// cannot be read; so does Load, naming it (the Go supervisord's config
// package would skip it silently).
func TestUnreadable(t *testing.T) {
	_, err := Load("testdata/unreadable/supervisord.conf")
	if err == nil || !strings.Contains(err.Error(), "[include]: cannot read ") ||
		!strings.Contains(err.Error(), "conf.d/dir.conf: supervisord would not start: read ") {
		t.Errorf("Load: %v", err)
	}
	if _, err := Load("testdata/missing/supervisord.conf"); err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

// TestShippedConfsHaveNoFindings: the shipped production confs, with the
// example trading stack switched on as an operator would, and the demo's.
func TestShippedConfsHaveNoFindings(t *testing.T) {
	src := filepath.Join("..", "..", "supervisor-conf")
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	copyTree(t, src, dir, strings.NewReplacer("/usr/local/bin/", bin+"/"))
	if err := os.Rename(filepath.Join(dir, "conf.d/trading.conf.example"), filepath.Join(dir, "conf.d/trading.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for b := range Needs {
		if err := os.WriteFile(filepath.Join(bin, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.LoadUnresolved(filepath.Join(dir, "superguard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join(dir, "supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	// As configfile.File.Halt reads it.
	var h Halt
	if node, ok := cfg.Listeners["haltguard"]; !ok || node.Decode(&h) != nil {
		t.Fatal("the shipped superguard.yaml has no haltguard section")
	}
	in := FromConfig(cfg, &h)
	if !slices.Equal(in.Critical, []string{"risk_manager"}) || !slices.Equal(in.Targets, []string{"trading"}) || len(in.Latches) != 2 {
		t.Fatalf("FromConfig(shipped superguard.yaml) = %+v", in)
	}
	// marketclock ships as an example to enable (conf.d/marketclock.conf.example):
	// it starts and stops programs, so it must not run before its section is written.
	if len(c.Listeners()) != len(Needs)-1 {
		t.Errorf("the shipped confs run %d superguard listeners, want %d", len(c.Listeners()), len(Needs)-1)
	}
	for _, f := range c.Diagnose(in) {
		t.Errorf("shipped: %s", f)
	}
}

func copyTree(t *testing.T, src, dst string, r *strings.Replacer) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), []byte(r.Replace(string(b))), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUnexpandable: a %(name)s supervisord does not know makes it refuse
// the conf; so does the doctor, naming the key.
func TestUnexpandable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervisord.conf")
	if err := os.WriteFile(path, []byte("[program:a]\ncommand=/bin/sleep %(sleep_for)s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Diagnose(Input{})
	want := path + " [program:a]: command=/bin/sleep %(sleep_for)s cannot be expanded (fail to find the environment variable sleep_for): supervisord would refuse this conf"
	if len(got) != 1 || got[0].String() != want {
		t.Errorf("findings %v, want [%s]", got, want)
	}
}
