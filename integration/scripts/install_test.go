// Package scripts tests the shell scripts under scripts/: which supervisord
// install-supervisor.sh accepts, which install branch it takes, that it stays
// quiet when there is nothing to do, and that the policy-rc.d guard that
// keeps apt-get from starting system services is put back afterwards. The
// branches that would change the system run in dry-run mode
// (SUPERGUARD_INSTALL_DRY_RUN=1), which prints the commands instead.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// fakeBin writes an executable shell script named name into dir.
func fakeBin(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func script(t *testing.T, name string) string {
	t.Helper()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "scripts", name)
}

// run runs a script with env added to a cleaned environment and returns
// stdout, stderr and the exit code.
func run(t *testing.T, path string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("bash", path)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SUPERGUARD_") && !strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	code, stdout, stderr = testsupport.Run(t, cmd)
	return stdout, stderr, code
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// canApt reports whether the apt branch applies here (Debian/Ubuntu, root).
func canApt() bool {
	_, err := os.Stat("/etc/debian_version")
	_, aptErr := exec.LookPath("apt-get")
	return err == nil && aptErr == nil && os.Geteuid() == 0
}

func TestInstallSupervisor(t *testing.T) {
	t.Parallel()
	path := script(t, "install-supervisor.sh")
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	current := filepath.Join(dir, "current")
	for _, d := range []string{old, current} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fakeBin(t, old, "supervisord", "echo 3.4.0")
	fake4 := fakeBin(t, current, "supervisord", "echo 4.2.5")
	fake3 := filepath.Join(old, "supervisord")
	python := fakeBin(t, dir, "python-with-venv", "exit 0")
	venv := filepath.Join(dir, "venv")
	sysPath := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	tests := []struct {
		name       string
		skip       bool
		env        []string
		wantCode   int
		wantLast   string   // last stdout line
		wantStderr []string // substrings
		quiet      bool     // nothing on stderr, one line on stdout
	}{
		{
			name:     "4.x on PATH is used quietly",
			env:      []string{"PATH=" + current + ":" + sysPath},
			wantLast: fake4, quiet: true,
		},
		{
			name:     "SUPERGUARD_SUPERVISORD 4.x wins over PATH",
			env:      []string{"PATH=" + old + ":" + sysPath, "SUPERGUARD_SUPERVISORD=" + fake4},
			wantLast: fake4, quiet: true,
		},
		{
			name:       "SUPERGUARD_SUPERVISORD 3.x is refused",
			env:        []string{"PATH=" + current + ":" + sysPath, "SUPERGUARD_SUPERVISORD=" + fake3},
			wantCode:   1,
			wantStderr: []string{"version 3.4.0, superguard needs supervisord 4.x", "is not a runnable supervisord 4.x"},
		},
		{
			name: "3.x on PATH, Debian as root: apt-get install supervisor",
			skip: !canApt(),
			env: []string{"PATH=" + old + ":" + sysPath, "SUPERGUARD_INSTALL_DRY_RUN=1", "SUPERGUARD_VENV=" + venv,
				"SUPERGUARD_PYTHON=/nonexistent"},
			wantLast:   "/usr/bin/supervisord",
			wantStderr: []string{"ignoring " + fake3 + ": version 3.4.0", "+ apt-get install -y -q --no-install-recommends supervisor"},
		},
		{
			name: "3.x on PATH, no apt: pip into a venv",
			env: []string{"PATH=" + old + ":" + sysPath, "SUPERGUARD_INSTALL_DRY_RUN=1", "SUPERGUARD_INSTALL_NO_APT=1",
				"SUPERGUARD_VENV=" + venv, "SUPERGUARD_PYTHON=" + python},
			wantLast: filepath.Join(venv, "bin", "supervisord"),
			wantStderr: []string{"ignoring " + fake3, "+ " + python + " -m venv " + venv,
				"+ " + venv + "/bin/pip install -q --disable-pip-version-check supervisor>=4,<5"},
		},
		{
			name: "3.x on PATH, no apt, no python: says what to install",
			env: []string{"PATH=" + old + ":" + sysPath, "SUPERGUARD_INSTALL_DRY_RUN=1", "SUPERGUARD_INSTALL_NO_APT=1",
				"SUPERGUARD_VENV=" + venv, "SUPERGUARD_PYTHON=/nonexistent"},
			wantCode:   1,
			wantStderr: []string{"no supervisord 4.x found", "apt-get install supervisor", "python3-venv", "SUPERGUARD_SUPERVISORD"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("needs Debian/Ubuntu with apt-get, as root")
			}
			stdout, stderr, code := run(t, path, tt.env...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			if tt.wantCode == 0 && lastLine(stdout) != tt.wantLast {
				t.Errorf("last stdout line = %q, want %q", lastLine(stdout), tt.wantLast)
			}
			if tt.wantCode != 0 && stdout != "" {
				t.Errorf("failed run printed a path: %q", stdout)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.quiet && (stderr != "" || strings.Count(stdout, "\n") != 1) {
				t.Errorf("not quiet: stdout %q, stderr %q", stdout, stderr)
			}
			if _, err := os.Stat(venv); err == nil {
				t.Errorf("dry run created %s", venv)
			}
		})
	}
}

func TestInstallAlertmanager(t *testing.T) {
	t.Parallel()
	testInstallTool(t, installTool{script: "install-alertmanager.sh", env: "SUPERGUARD_ALERTMANAGER",
		installed: "/usr/bin/prometheus-alertmanager", pkg: "prometheus-alertmanager", fakes: []string{"alertmanager"}})
}

// TestInstallPrometheus: prometheus with its promtool beside it.
func TestInstallPrometheus(t *testing.T) {
	t.Parallel()
	testInstallTool(t, installTool{script: "install-prometheus.sh", env: "SUPERGUARD_PROMETHEUS",
		installed: "/usr/bin/prometheus", pkg: "prometheus", fakes: []string{"prometheus", "promtool"}})
	// A prometheus without a promtool beside it is refused.
	dir := t.TempDir()
	fake := fakeBin(t, dir, "prometheus", `[ "$1" = --version ] && echo "prometheus, version 2.42.0"`)
	_, stderr, code := run(t, script(t, "install-prometheus.sh"), "PATH=/usr/bin:/bin", "SUPERGUARD_PROMETHEUS="+fake)
	if code != 1 || !strings.Contains(stderr, "no runnable promtool beside it") {
		t.Errorf("prometheus without promtool: exit %d, stderr %q", code, stderr)
	}
}

// installTool is a script that installs a Debian package for tests.
type installTool struct {
	script, env, installed, pkg string
	fakes                       []string // fake binaries in one directory; the first is the one named by env
}

// testInstallTool: the variable's binary is used (or refused when it does
// not run); an installed package is used quietly; without apt the script
// says what to install.
func testInstallTool(t *testing.T, tool installTool) {
	path := script(t, tool.script)
	dir := t.TempDir()
	var fake string
	for i, name := range tool.fakes {
		f := fakeBin(t, dir, name, `[ "$1" = --version ] && echo "`+name+`, version 1.0.0"`)
		if i == 0 {
			fake = f
		}
	}
	sysPath := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	type toolCase struct {
		name       string
		env        []string
		wantCode   int
		wantLast   string
		wantStderr string
	}
	tests := []toolCase{
		{name: tool.env + " is used", env: []string{"PATH=" + sysPath, tool.env + "=" + fake}, wantLast: fake},
		{name: tool.env + " that does not run", env: []string{"PATH=" + sysPath, tool.env + "=/nonexistent"},
			wantCode: 1, wantStderr: "does not run"},
	}
	if _, err := os.Stat(tool.installed); err == nil {
		tests = append(tests, toolCase{name: "installed package is used quietly", env: []string{"PATH=" + sysPath, "SUPERGUARD_INSTALL_DRY_RUN=1"}, wantLast: tool.installed})
	} else {
		tests = append(tests, toolCase{name: "not installed, no apt: says what to install", env: []string{"PATH=" + sysPath, "SUPERGUARD_INSTALL_NO_APT=1"},
			wantCode: 1, wantStderr: "apt-get install " + tool.pkg})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, path, tt.env...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			if tt.wantCode == 0 && (lastLine(stdout) != tt.wantLast || stderr != "") {
				t.Errorf("stdout %q stderr %q, want just %q", stdout, stderr, tt.wantLast)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr)
			}
		})
	}
}

// TestPolicyGuard: the guard that forbids service starts during apt-get
// install puts back whatever policy-rc.d was there before, or removes its
// own, also when the script exits half-way.
func TestPolicyGuard(t *testing.T) {
	t.Parallel()
	lib := script(t, "lib/common.sh")
	tests := []struct {
		name     string
		existing string // "" = no policy-rc.d before
		body     string // runs after sg_policy_forbid
	}{
		{name: "none before", body: "sg_policy_restore"},
		{name: "one before", existing: "#!/bin/sh\nexit 0\n", body: "sg_policy_restore"},
		{name: "script exits half-way", existing: "#!/bin/sh\nexit 0\n", body: "exit 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := filepath.Join(t.TempDir(), "policy-rc.d")
			if tt.existing != "" {
				if err := os.WriteFile(policy, []byte(tt.existing), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			sh := `. "$1"; SG_POLICY="$2"; sg_policy_forbid; "$SG_POLICY"; echo "during=$?"; ` + tt.body
			out, err := exec.Command("bash", "-c", sh, "guard", lib, policy).CombinedOutput()
			if !strings.Contains(string(out), "during=101") {
				t.Fatalf("policy-rc.d during the guard did not answer 101: %s (%v)", out, err)
			}
			got, readErr := os.ReadFile(policy)
			switch {
			case tt.existing == "" && readErr == nil:
				t.Errorf("guard left its policy-rc.d behind: %q", got)
			case tt.existing != "" && string(got) != tt.existing:
				t.Errorf("policy-rc.d after the guard = %q (%v), want the original %q", got, readErr, tt.existing)
			}
			leftovers, _ := filepath.Glob(policy + ".superguard.*")
			if len(leftovers) > 0 {
				t.Errorf("backup files left: %v", leftovers)
			}
		})
	}
}
