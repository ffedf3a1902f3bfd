package eventlog

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Canary values for the secret files supervisor-conf/superguard.yaml names
// by *_file (relative to /etc/superguard, the scenario directory). They are
// shaped to pass validation (a PagerDuty routing key is 32 letters or
// digits) and must never show up in any output.
var sampleSecrets = map[string]string{
	"secrets/pagerduty.key":   "pdCANARY0123456789abcdef01234567",
	"secrets/slack-bot.token": "xoxb-CANARY-slack-bot-token",
}

// writeSecrets writes sampleSecrets under dir, mode 0600.
func writeSecrets(t *testing.T, dir string) {
	t.Helper()
	for rel, v := range sampleSecrets {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	crashpagerPkg = "./listeners/crashpager"
	haltguardPkg  = "./listeners/haltguard"
)

// sampleConfig writes the shipped superguard.yaml into a temp dir with its
// production paths moved there, as harness.ShippedConf does for the confs,
// so that a supervisord socket on the test host cannot change the outcome.
// It returns the file's path.
func sampleConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	text := strings.NewReplacer("{{.Dir}}", dir, "{{.ExporterListen}}", "127.0.0.1:0").Replace(harness.ShippedConf(t, "superguard.yaml"))
	path := filepath.Join(dir, "superguard.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBin runs a built binary with args and env (nil: harness.CleanEnv, the
// test's own environment without SUPERVISOR_* and SUPERGUARD_*) and returns its exit code, stdout and stderr. Secrets must
// not appear in either stream.
func runBin(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if env == nil {
		cmd.Env = testsupport.CleanEnv()
	}
	code, stdout, stderr := testsupport.Run(t, cmd)
	for name, v := range sampleSecrets {
		if strings.Contains(stdout+stderr, v) {
			t.Errorf("%s %s printed the value of $%s", filepath.Base(bin), strings.Join(args, " "), name)
		}
	}
	return code, stdout, stderr
}

// TestShippedSampleConfigChecks runs each listener's -check on the shipped
// supervisor-conf/superguard.yaml: it passes once the secret files it names
// exist, and fails naming the file when one does not. With no supervisord
// reachable, -check fails (exit 1) unless -file-only asks for the file
// alone.
func TestShippedSampleConfigChecks(t *testing.T) {
	cfg := sampleConfig(t)
	writeSecrets(t, filepath.Dir(cfg))
	crashpager, haltguard := harness.Bin(t, crashpagerPkg), harness.Bin(t, haltguardPkg)
	tests := []struct {
		name       string
		bin        string
		env        []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"crashpager without supervisord", crashpager, nil, 1, "", "supervisord not reachable"},
		{"haltguard without supervisord", haltguard, nil, 1, "", "run with -file-only to check the file alone"},
		{"crashpager, the file only", crashpager, nil, 0, "crashpager: config " + cfg + ": OK (file only)", ""},
		{"haltguard, the file only", haltguard, nil, 0, "haltguard: config " + cfg + ": OK (file only)", ""},
		{"crashpager without the routing key", crashpager, nil, 2,
			"", "sinks[0].routing_key_file: stat " + filepath.Join(filepath.Dir(cfg), "secrets/pagerduty.key")},
		{"haltguard without the slack token", haltguard, nil, 2,
			"", "sinks[1].token_file: stat " + filepath.Join(filepath.Dir(cfg), "secrets/slack-bot.token")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "without the") {
				// A config of its own, the secret file missing.
				dir := t.TempDir()
				writeSecrets(t, dir)
				secret := "secrets/pagerduty.key"
				if strings.Contains(tc.name, "slack") {
					secret = "secrets/slack-bot.token"
				}
				if err := os.Remove(filepath.Join(dir, secret)); err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(cfg)
				if err != nil {
					t.Fatal(err)
				}
				own := filepath.Join(dir, "superguard.yaml")
				if err := os.WriteFile(own, []byte(strings.ReplaceAll(string(b), filepath.Dir(cfg), dir)), 0o600); err != nil {
					t.Fatal(err)
				}
				tc.wantStderr = strings.ReplaceAll(tc.wantStderr, filepath.Dir(cfg), dir)
				code, _, stderr := runBin(t, tc.bin, nil, "-check", "-file-only", "-config", own)
				if code != tc.wantCode || !strings.Contains(stderr, tc.wantStderr) {
					t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.wantCode, tc.wantStderr)
				}
				return
			}
			args := []string{"-check", "-config", cfg}
			if strings.Contains(tc.name, "file only") {
				args = append(args, "-file-only")
			}
			code, stdout, stderr := runBin(t, tc.bin, tc.env, args...)
			if code != tc.wantCode || !strings.Contains(stdout, tc.wantStdout) || !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

// TestShippedSuite runs the shipped supervisord.conf with every shipped
// conf.d listener and superguard.yaml (production paths moved into the
// scenario directory) next to a risk_manager program and a trading group
// whose strategy starts through `haltguard gate`, as the confs recommend:
// every listener comes up RUNNING and acknowledges events (supervisord's
// own log at loglevel=debug says so: RUNNING alone is also what a deaf
// listener in the UNKNOWN protocol state shows), the gate lets the strategy
// start while trading is not halted, and haltguard -check validates the
// sample config against this supervisord.
func TestShippedSuite(t *testing.T) {
	t.Parallel()
	conf := harness.ShippedConf(t, "supervisord.conf")
	if !strings.Contains(conf, "\nloglevel=info\n") {
		t.Fatal("the shipped supervisord.conf has no loglevel=info line to turn to debug")
	}
	s := harness.Start(t, harness.Options{
		ConfTemplate: strings.Replace(conf, "\nloglevel=info\n", "\nloglevel=debug\n", 1),
		Files:        shippedFiles(t, ""),
	})
	listeners := []string{"eventlog", "crashpager", "haltguard", "healthprobe", "memguard", "exporter"}
	for _, name := range append(listeners, "risk_manager") {
		s.WaitProcessState(t, name, supervisor.ProcessRunning, wait)
	}
	// Two results each: the events of the programs' start and then a
	// TICK_5 (eventlog's conf takes TICK_60: the start's events suffice).
	for _, name := range listeners {
		s.WaitAcknowledged(t, name, 2, wait)
	}
	s.WaitProcessState(t, "trading:strat_a", supervisor.ProcessRunning, wait)
	for _, name := range []string{"crashpager", "haltguard"} {
		if path, err := s.StderrPath(name); err != nil || path != s.Path("log", name+".log") {
			t.Errorf("%s stderr log = %q, %v; want the shipped /var/log/superguard/%s.log", name, path, err, name)
		}
	}
	code, stdout, stderr := runBin(t, harness.Bin(t, haltguardPkg), nil, "-check", "-config", s.Path("superguard.yaml"), "-supervisord-conf", "none")
	if code != 0 || !strings.Contains(stdout, "OK (checked against supervisord at "+s.URL+")") {
		t.Errorf("haltguard -check against the suite: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The conf doctor on the conf that runs the suite: the shipped
	// listener blocks pass; this test's strategy runs as root (no user=),
	// which is exactly what it must find, with the file and the section.
	code, stdout, stderr = runBin(t, harness.Bin(t, haltguardPkg), nil, "-check", "-config", s.Path("superguard.yaml"), "-supervisord-conf", s.ConfPath)
	want := "haltguard: supervisord.conf " + s.Path("conf.d", "trading.conf") + " [program:strat_a]: trading:strat_a has no user=: it runs as supervisord's own user, root under superguard.service, " +
		"and a strategy as root can read superguard's secrets and undo a halt; set user= to its own account (e.g. user=trading)\n"
	if code != 2 || stderr != want || stdout != "" {
		t.Errorf("haltguard -check -supervisord-conf: exit %d, stdout %q, stderr %q; want exit 2 and stderr %q", code, stdout, stderr, want)
	}
}

// shippedListenerConfs lists supervisor-conf/conf.d/*.conf, relative to
// supervisor-conf/.
func shippedListenerConfs(t *testing.T) []string {
	t.Helper()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(root, "supervisor-conf", "conf.d", "*.conf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no supervisor-conf/conf.d/*.conf: %v", err)
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Join("conf.d", filepath.Base(p))
	}
	return out
}

// TestStrategyUserLearnsNoSecret runs the shipped confs (secrets in files,
// directories with the shipped modes) with a rogue program run as user
// nobody, as strategies run, that dumps its environment, tries to read
// every superguard file and to reach supervisord's API (to resume trading
// after a halt). It learns no secret, reads nothing but the halt latch, and
// resumes nothing.
func TestStrategyUserLearnsNoSecret(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("runs a program as user nobody: needs root")
	}
	rogue := `
[program:rogue]
command=sh -c 'env; for f in {{.Dir}}/superguard.yaml {{.Dir}}/secrets/pagerduty.key {{.Dir}}/secrets/slack-bot.token {{.Dir}}/supervisord.conf {{.Dir}}/lib/state.db {{.Dir}}/lib/halt.latch {{.Dir}}/log/haltguard.log; do if cat "$f" >/dev/null 2>&1; then echo "READ $f"; else echo "DENIED $f"; fi; done; if python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" {{.Dir}}/run/supervisor.sock 2>/dev/null; then echo "CONNECTED"; else echo "DENIED socket"; fi; echo DONE'
user=nobody
autostart=false
autorestart=false
startsecs=0
stdout_logfile={{.Dir}}/rogue.out
`
	s := harness.Start(t, harness.Options{ConfTemplate: harness.ShippedConf(t, "supervisord.conf"), Files: shippedFiles(t, rogue)})
	for _, name := range []string{"crashpager", "haltguard", "risk_manager"} {
		s.WaitProcessState(t, name, supervisor.ProcessRunning, wait)
	}
	// The modes of the shipped install (README, superguard.service); the
	// test's own temporary directory above the scenario stands for /.
	if err := os.Chmod(filepath.Dir(s.Dir), 0o711); err != nil {
		t.Fatal(err)
	}
	for rel, mode := range map[string]os.FileMode{".": 0o755, "secrets": 0o700, "lib": 0o711, "run": 0o711, "log": 0o750} {
		if err := os.Chmod(s.Path(rel), mode); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runBin(t, harness.Bin(t, haltguardPkg), nil, "halt", "--reason", "rogue drill", "-config", s.Path("superguard.yaml"))
	if code != 0 {
		t.Fatalf("halt: exit %d\n%s%s", code, out, errOut)
	}
	if err := s.Client.StartProcess(context.Background(), "rogue", false); err != nil {
		t.Fatal(err)
	}
	var dump string
	testsupport.Eventually(t, wait, "the rogue's report", func() (bool, string) {
		b, _ := os.ReadFile(s.Path("rogue.out"))
		dump = string(b)
		return strings.Contains(dump, "DONE"), dump
	})
	for name, v := range sampleSecrets {
		if strings.Contains(dump, strings.TrimSpace(v)) {
			t.Errorf("the rogue learnt %s", name)
		}
	}
	for _, rel := range []string{"superguard.yaml", "secrets/pagerduty.key", "secrets/slack-bot.token", "supervisord.conf", "lib/state.db", "log/haltguard.log"} {
		if !strings.Contains(dump, "DENIED "+s.Path(rel)) {
			t.Errorf("the rogue could read %s", rel)
		}
	}
	if !strings.Contains(dump, "READ "+s.Path("lib/halt.latch")) {
		t.Errorf("the rogue (a strategy's gate) cannot read the halt latch:\n%s", dump)
	}
	if strings.Contains(dump, "CONNECTED") {
		t.Error("the rogue reached supervisord's API: it could resume trading")
	}
	if code, out, _ := runBin(t, harness.Bin(t, haltguardPkg), nil, "status", "-config", s.Path("superguard.yaml")); code != 3 {
		t.Errorf("status after the rogue: exit %d, want 3 (halted)\n%s", code, out)
	}
}

// shippedFiles are the scenario files of a shipped install: superguard.yaml,
// every conf.d listener, the secret files, and conf.d/trading.conf with a
// risk_manager and a trading group whose strategy starts through
// `haltguard gate`, followed by extra.
func shippedFiles(t *testing.T, extra string) map[string]string {
	t.Helper()
	files := map[string]string{
		"superguard.yaml": harness.ShippedConf(t, "superguard.yaml"),
		"lib/.keep":       "",
		"conf.d/trading.conf": `
[program:risk_manager]
command={{bin "` + fakePkg + `"}}
startsecs=0
autorestart=true

[program:strat_a]
command={{bin "` + haltguardPkg + `"}} gate -config {{.Dir}}/superguard.yaml -- {{bin "` + fakePkg + `"}}
startsecs=1
autorestart=true

[group:trading]
programs=strat_a
` + extra,
	}
	for _, f := range shippedListenerConfs(t) {
		files[f] = harness.ShippedConf(t, f)
	}
	for rel, v := range sampleSecrets {
		files[rel] = v + "\n"
	}
	return files
}
