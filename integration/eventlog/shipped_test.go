package eventlog

import (
	"crypto/sha1"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/confdoctor"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestShippedConfs runs the shipped supervisor-conf/supervisord.conf with its
// conf.d/eventlog.conf (production paths moved into a temp dir): supervisord
// accepts them, eventlog comes up RUNNING through the [include], and it logs
// the events it is subscribed to.
func TestShippedConfs(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{
		ConfTemplate: harness.ShippedConf(t, "supervisord.conf"),
		Files: map[string]string{
			"conf.d/eventlog.conf": harness.ShippedConf(t, "conf.d/eventlog.conf"),
			"lib/.keep":            "",
		},
	})
	if s.Socket != s.Path("run", "supervisor.sock") || s.LogPath != s.Path("log", "supervisord.log") {
		t.Errorf("shipped paths not moved: socket %s, log %s", s.Socket, s.LogPath)
	}
	s.WaitProcessState(t, "eventlog", supervisor.ProcessRunning, wait)
	if err := s.Client.SendRemoteCommEvent(ctx(t), "superguard.test", "shipped ✓"); err != nil {
		t.Fatal(err)
	}
	_, got := events(t, s, "eventlog", 1, "REMOTE_COMMUNICATION", isEvent("REMOTE_COMMUNICATION", ""))
	if got[0].Remote == nil || got[0].Remote.Data != "shipped ✓" {
		t.Errorf("remote = %s", got[0])
	}
	events(t, s, "eventlog", 1, "SUPERVISOR_STATE_CHANGE_RUNNING", isEvent("SUPERVISOR_STATE_CHANGE_RUNNING", ""))
	events(t, s, "eventlog", 1, "its own PROCESS_STATE_RUNNING", isEvent("PROCESS_STATE_RUNNING", "eventlog"))
	if path, err := s.StderrPath("eventlog"); err != nil || path != s.Path("log", "eventlog.log") {
		t.Errorf("eventlog stderr log = %q, %v; want the shipped /var/log/superguard/eventlog.log", path, err)
	}
}

// TestShippedListenerSettings checks the settings every listener block must
// carry (see README.md), in every [eventlistener:x] of every shipped
// conf.d/*.conf: a missing one fails silently in production.
func TestShippedListenerSettings(t *testing.T) {
	t.Parallel()
	// The events each shipped listener needs, by name: what the conf
	// doctor requires (confdoctor.Needs), and eventlog's shipped choice.
	wantEvents := map[string][]string{"eventlog": {"PROCESS_STATE", "TICK_60"}}
	for name, needs := range confdoctor.Needs {
		if name != "eventlog" {
			wantEvents[name] = needs
		}
	}
	listeners := 0
	// The listeners shipped to enable (marketclock) follow the same rules.
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob(filepath.Join(root, "supervisor-conf", "conf.d", "*.conf.example"))
	if err != nil {
		t.Fatal(err)
	}
	files := shippedListenerConfs(t)
	for _, p := range examples {
		files = append(files, filepath.Join("conf.d", filepath.Base(p)))
	}
	for _, file := range files {
		for _, sec := range harness.ParseConf(harness.ShippedConf(t, file)) {
			name, ok := strings.CutPrefix(sec.Name, "eventlistener:")
			if !ok {
				continue
			}
			listeners++
			t.Run(file+"/"+name, func(t *testing.T) {
				want := map[string]string{
					"buffer_size":    "1024",
					"priority":       "1000",
					"autorestart":    "true",
					"stdout_logfile": "NONE",
				}
				for k, v := range want {
					if got := sec.Values[k]; got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if got := sec.Values["stderr_logfile"]; got == "" || got == "NONE" {
					t.Errorf("stderr_logfile = %q, want a file: the listener's logs go to stderr", got)
				}
				events, known := wantEvents[name]
				if !known {
					t.Fatalf("no expected events for listener %q: add it to wantEvents", name)
				}
				got := strings.Split(sec.Values["events"], ",")
				for _, e := range events {
					if !slices.Contains(got, e) {
						t.Errorf("events = %q, want %s among them", sec.Values["events"], e)
					}
				}
			})
		}
	}
	if listeners < len(wantEvents) {
		t.Errorf("found %d [eventlistener:x] sections in conf.d, want at least %d", listeners, len(wantEvents))
	}
}

// TestShippedSystemdUnit checks superguard.service with systemd-analyze.
func TestShippedSystemdUnit(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", root+"/supervisor-conf/superguard.service").CombinedOutput()
	// verify exits 0 on unknown keys and bad values: any output is a finding.
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestShippedReloadWithSocketAuth turns on the socket's credentials as the
// shipped supervisord.conf documents (username, a {SHA} password, and the
// same credentials in [supervisorctl]) and runs the systemd unit's
// ExecReload command line: it must reach supervisord, not fail with 401.
func TestShippedReloadWithSocketAuth(t *testing.T) {
	t.Parallel()
	const password = "reload-pw-4c1a"
	conf := harness.ShippedConf(t, "supervisord.conf")
	for old, new := range map[string]string{
		";username=superguard": "username=superguard",
		";password={SHA}<sha1 of the password in " + "{{.Dir}}/secrets/supervisor.pass>": fmt.Sprintf("password={SHA}%x", sha1.Sum([]byte(password))),
		";password=<the password in {{.Dir}}/secrets/supervisor.pass>":                   "password=" + password,
	} {
		if !strings.Contains(conf, old) {
			t.Fatalf("the shipped supervisord.conf lacks %q", old)
		}
		conf = strings.ReplaceAll(conf, old, new)
	}
	s := harness.Start(t, harness.Options{ConfTemplate: conf, Username: "superguard", Password: password, UnixAuth: true,
		Files: map[string]string{"conf.d/none.conf": "; no programs\n"}})
	unit := harness.ShippedConf(t, "superguard.service")
	var reload string
	for line := range strings.Lines(unit) {
		if v, ok := strings.CutPrefix(line, "ExecReload="); ok {
			reload = strings.TrimSpace(v)
		}
	}
	argv := strings.Fields(strings.ReplaceAll(reload, "{{.Dir}}", s.Dir))
	if len(argv) < 2 || filepath.Base(argv[0]) != "supervisorctl" {
		t.Fatalf("ExecReload = %q, want supervisorctl ...", reload)
	}
	argv[0] = filepath.Join(filepath.Dir(harness.SupervisordPath(t)), "supervisorctl")
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil || strings.Contains(string(out), "401") {
		t.Errorf("ExecReload (%s): %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// TestReadmeShowsTheShippedConfig keeps README.md's complete annotated
// example equal to supervisor-conf/superguard.yaml, the file make install
// installs: documentation that drifts from the shipped file misleads.
func TestReadmeShowsTheShippedConfig(t *testing.T) {
	t.Parallel()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(filepath.Join(root, "supervisor-conf", "superguard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const open = "<summary>supervisor-conf/superguard.yaml</summary>\n\n```yaml\n"
	_, rest, ok := strings.Cut(string(readme), open)
	if !ok {
		t.Fatalf("README.md has no %q block", strings.TrimSpace(open))
	}
	block, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatal("README.md's superguard.yaml block is not closed")
	}
	if block != string(shipped) {
		t.Error("README.md's superguard.yaml differs from supervisor-conf/superguard.yaml: copy the file into the README's block")
	}
}
