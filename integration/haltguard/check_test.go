package haltguard

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestCheckChecks runs every binary's -check against a real supervisord
// whose socket needs a password, as an operator would from a shell: the
// whole file is validated by any binary (other listeners' sections and
// names no listener has), problems carry the file's line numbers and no Go
// type names, a supervisord that refuses the credentials or cannot be
// reached is an error unless -file-only, and names that select no process
// (crashpager's include, eventlog's -process and -events) are errors.
func TestCheckChecks(t *testing.T) {
	t.Parallel()
	const user, password = "operator", "check-pw-5d1e"
	s := harness.Start(t, harness.Options{
		Username: user, Password: password, UnixAuth: true,
		Env: []string{"CHECK_RPC_PASSWORD=" + password},
		Sections: `
[program:feed_handler]
command={{bin "./integration/cmd/fakestrategy"}}
startsecs=0

[program:alpha]
command={{bin "./integration/cmd/fakestrategy"}}
startsecs=0

[group:books]
programs=alpha
`})
	s.WaitProcessState(t, "books:alpha", supervisor.ProcessRunning, waitUp)
	good := `supervisor:
  url: ` + s.URL + `
  username: ` + user + `
  password_env: CHECK_RPC_PASSWORD
sinks:
  - {name: log, type: log}
listeners:
  crashpager:
    include: [feed_handler, books]
  haltguard:
    critical: [feed_handler]
    targets: [books]
`
	crashpager, haltguard, eventlog := harness.Bin(t, "./listeners/crashpager"), harness.Bin(t, "./listeners/haltguard"), harness.Bin(t, "./listeners/eventlog")
	env := []string{"CHECK_RPC_PASSWORD=" + password}
	tests := []struct {
		name     string
		bin      string
		from, to string   // replaced in good
		args     []string // after -check -config FILE
		env      []string // replaces env
		wantCode int
		want     []string // in stdout+stderr
		wantNot  []string
	}{
		{name: "crashpager valid", bin: crashpager, wantCode: 0, want: []string{"OK (checked against supervisord at unix://"}},
		{name: "haltguard valid", bin: haltguard, wantCode: 0, want: []string{"OK (checked against supervisord at unix://"}},
		{name: "another listener's section", bin: crashpager, from: "targets: [books]", to: "targets: [books]\n    stop_mode: sideways", wantCode: 2,
			want: []string{`line 13: listeners.haltguard.stop_mode: "sideways": want multicall or concurrent`}},
		{name: "another listener's unknown field", bin: haltguard, from: "include: [feed_handler, books]", to: "include: [feed_handler, books]\n    spree_treshold: 3", wantCode: 2,
			want: []string{`line 10: unknown field "spree_treshold"`}, wantNot: []string{"main.", "sections.", "not found in type"}},
		{name: "a section no listener has", bin: haltguard, from: "  haltguard:", to: "  halguard:\n    critical: [feed_handler]\n  haltguard:", wantCode: 2,
			want: []string{`line 10: listeners.halguard: no listener is named "halguard"`}},
		{name: "a wrong type", bin: crashpager, from: "include: [feed_handler, books]", to: "include: [feed_handler, books]\n    spree_threshold: many", wantCode: 2,
			want: []string{`line 10: "many" is not a whole number`}, wantNot: []string{"!!str", " int"}},
		{name: "crashpager include matches nothing", bin: crashpager, from: "include: [feed_handler, books]", to: "include: [feed_handler, bokos]", wantCode: 2,
			want: []string{`listeners.crashpager.include: "bokos" matches no program or group in supervisord`}},
		{name: "wrong password", bin: haltguard, env: []string{"CHECK_RPC_PASSWORD=wrong"}, wantCode: 1,
			want: []string{"supervisord not reachable", "401", "run with -file-only"}, wantNot: []string{"OK"}},
		{name: "wrong password, file only", bin: haltguard, env: []string{"CHECK_RPC_PASSWORD=wrong"}, args: []string{"-file-only"}, wantCode: 0,
			want: []string{"OK (file only)"}},
		{name: "unreachable", bin: crashpager, from: "url: " + s.URL, to: "url: unix://" + s.Path("none.sock"), wantCode: 1,
			want: []string{"supervisord not reachable"}, wantNot: []string{"OK"}},
		{name: "eventlog process matches nothing", bin: eventlog, args: []string{"-process", "books,feed_hadler"}, wantCode: 2,
			want: []string{`-process: "feed_hadler" matches no program or group in supervisord`}},
		{name: "eventlog valid", bin: eventlog, args: []string{"-process", "books,feed_handler"}, wantCode: 0,
			want: []string{"OK (checked against supervisord"}},
		{name: "eventlog event matches nothing", bin: eventlog, args: []string{"-events", "PROCESS_STAT_FATAL"}, wantCode: 2,
			want: []string{`-events: "PROCESS_STAT_FATAL" names no supervisord event type`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf := strings.Replace(good, tc.from, tc.to, 1)
			if tc.from != "" && conf == good {
				t.Fatalf("%q not in the config", tc.from)
			}
			e := env
			if tc.env != nil {
				e = tc.env
			}
			var args []string
			if tc.bin == eventlog {
				// eventlog reads no config file: supervisord comes from the
				// environment, as supervisord gives it to its children.
				e = append(e, "SUPERVISOR_SERVER_URL="+s.URL, "SUPERVISOR_USERNAME="+user, "SUPERVISOR_PASSWORD="+password)
				args = append([]string{"-check"}, tc.args...)
			} else {
				path := s.Path(strings.ReplaceAll(tc.name, " ", "_") + ".yaml")
				if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append([]string{"-check", "-config", path}, tc.args...)
			}
			out, code := runCheck(t, tc.bin, e, args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\n%s", code, tc.wantCode, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, password) {
				t.Errorf("output shows the password:\n%s", out)
			}
		})
	}
}

// runCheck runs bin with args and env (and nothing of the test's own
// SUPERVISOR_* or SUPERGUARD_* variables), as an operator's shell would,
// returning stdout and stderr together, and the exit code.
func runCheck(t *testing.T, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = testsupport.CleanEnv(env...)
	code, out := testsupport.RunCombined(t, cmd)
	return out, code
}
