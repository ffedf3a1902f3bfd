package eventlog

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Canary values for the secrets supervisor-conf/superguard.yaml names by
// *_env. They are shaped to pass validation (a PagerDuty routing key is 32
// letters or digits) and must never show up in any output.
var sampleSecrets = map[string]string{
	"PD_ROUTING_KEY":  "pdCANARY0123456789abcdef01234567",
	"SLACK_BOT_TOKEN": "xoxb-CANARY-slack-bot-token",
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
	text := strings.NewReplacer("{{.Dir}}", dir).Replace(harness.ShippedConf(t, "superguard.yaml"))
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
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("%s %s: %v", filepath.Base(bin), strings.Join(args, " "), err)
		}
		code = exit.ExitCode()
	}
	for name, v := range sampleSecrets {
		if strings.Contains(stdout.String()+stderr.String(), v) {
			t.Errorf("%s %s printed the value of $%s", filepath.Base(bin), strings.Join(args, " "), name)
		}
	}
	return code, stdout.String(), stderr.String()
}

// envWithout returns harness.CleanEnv without the named variables.
func envWithout(names ...string) []string {
	var out []string
	for _, kv := range testsupport.CleanEnv() {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// TestShippedSampleConfigChecks runs each listener's -check on the shipped
// supervisor-conf/superguard.yaml: it passes once the variables it names
// are set, and fails naming the variable when one is not. With no
// supervisord reachable, -check fails (exit 1) unless -file-only asks for
// the file alone.
func TestShippedSampleConfigChecks(t *testing.T) {
	for name, v := range sampleSecrets {
		t.Setenv(name, v)
	}
	cfg := sampleConfig(t)
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
		{"crashpager without the routing key", crashpager, envWithout("PD_ROUTING_KEY"), 2,
			"", "sinks[0].routing_key_env: variable PD_ROUTING_KEY is not set"},
		{"haltguard without the slack token", haltguard, envWithout("SLACK_BOT_TOKEN"), 2,
			"", "sinks[1].token_env: variable SLACK_BOT_TOKEN is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
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
// every listener comes up RUNNING, the gate lets the strategy start while
// trading is not halted, and haltguard -check validates the sample config
// against this supervisord.
func TestShippedSuite(t *testing.T) {
	t.Parallel()
	var env []string
	for name, v := range sampleSecrets {
		env = append(env, name+"="+v)
	}
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
`,
	}
	for _, f := range shippedListenerConfs(t) {
		files[f] = harness.ShippedConf(t, f)
	}
	s := harness.Start(t, harness.Options{
		ConfTemplate: harness.ShippedConf(t, "supervisord.conf"),
		Files:        files,
		Env:          env,
	})
	for _, name := range []string{"eventlog", "crashpager", "haltguard", "risk_manager"} {
		s.WaitProcessState(t, name, supervisor.ProcessRunning, wait)
	}
	s.WaitProcessState(t, "trading:strat_a", supervisor.ProcessRunning, wait)
	for _, name := range []string{"crashpager", "haltguard"} {
		if path, err := s.StderrPath(name); err != nil || path != s.Path("log", name+".log") {
			t.Errorf("%s stderr log = %q, %v; want the shipped /var/log/superguard/%s.log", name, path, err, name)
		}
	}
	code, stdout, stderr := runBin(t, harness.Bin(t, haltguardPkg), testsupport.CleanEnv(env...),
		"-check", "-config", s.Path("superguard.yaml"))
	if code != 0 || !strings.Contains(stdout, "OK (checked against supervisord at "+s.URL+")") {
		t.Errorf("haltguard -check against the suite: exit %d, stdout %q, stderr %q", code, stdout, stderr)
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
