package scripts

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// wait bounds each wait on supervisord: generous, for a loaded machine.
const wait = 60 * time.Second

// listenerNames are the binaries make install puts in $PREFIX/bin.
var listenerNames = []string{"crashpager", "eventlog", "haltguard", "healthprobe", "memguard", "exporter"}

// canaries are the secrets the shipped superguard.yaml names by *_file.
var canaries = map[string]string{
	"secrets/pagerduty.key":   "pdCANARY0123456789abcdef01234567",
	"secrets/slack-bot.token": "xoxb-CANARY-slack-bot-token",
}

// runIn runs name args in dir with env added to the test's cleaned
// environment (PATH kept) and returns the exit code and both streams.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = testsupport.CleanEnv(env...)
	return testsupport.RunCombined(t, cmd)
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeText(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

// TestMakeInstall runs `make install` as a packager does (DESTDIR, and a
// PREFIX other than /usr/local so the confs must be rewritten to it) and
// checks the tree: every listener, the confs and the unit with the modes
// README.md gives, the confs naming the installed binaries. Installing
// again keeps a config the operator edited (the new one beside it as
// .new), updates one that was not edited, and replaces the binaries.
// Then supervisord runs from the installed tree, with the example trading
// conf switched on as an operator would: every listener comes up and
// acknowledges events, and haltguard -check passes against it. Last, make
// uninstall removes the binaries and the unit and keeps /etc/superguard.
func TestMakeInstall(t *testing.T) {
	t.Parallel()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// Short: supervisord's unix socket lives under it (108-byte limit).
	dest, err := os.MkdirTemp("", "sgi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dest) })
	built := t.TempDir()
	const prefix = "/opt/sg"
	vars := []string{"DESTDIR=" + dest, "PREFIX=" + prefix, "BIN=" + built}
	code, out := runIn(t, root, nil, "make", append([]string{"--no-print-directory", "install"}, vars...)...)
	if code != 0 {
		t.Fatalf("make install: exit %d\n%s", code, out)
	}
	etc := filepath.Join(dest, "etc/superguard")

	// The tree and its modes.
	want := map[string]os.FileMode{
		"etc/superguard":                             0o750 | fs.ModeDir,
		"etc/superguard/conf.d":                      0o750 | fs.ModeDir,
		"etc/superguard/secrets":                     0o700 | fs.ModeDir,
		"etc/superguard/supervisord.conf":            0o644,
		"etc/superguard/superguard.yaml":             0o640,
		"etc/superguard/conf.d/trading.conf.example": 0o644,
		"etc/systemd/system/superguard.service":      0o644,
		"etc/superguard/conf.d/haltguard.conf":       0o644,
		"etc/superguard/conf.d/crashpager.conf":      0o644,
		"etc/superguard/conf.d/eventlog.conf":        0o644,
		"etc/superguard/conf.d/healthprobe.conf":     0o644,
		"etc/superguard/conf.d/memguard.conf":        0o644,
		strings.TrimPrefix(prefix, "/") + "/bin":     0o755 | fs.ModeDir,
	}
	for _, name := range listenerNames {
		want[strings.TrimPrefix(prefix, "/")+"/bin/"+name] = 0o755
	}
	for rel, mode := range want {
		fi, err := os.Stat(filepath.Join(dest, rel))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if fi.Mode()&(fs.ModeDir|fs.ModePerm) != mode {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), mode)
		}
	}
	shipped, err := filepath.Glob(filepath.Join(root, "supervisor-conf/conf.d/*.conf"))
	if err != nil || len(shipped) == 0 {
		t.Fatalf("no shipped conf.d: %v", err)
	}
	for _, src := range shipped {
		rel := filepath.Join("conf.d", filepath.Base(src))
		got := readText(t, filepath.Join(etc, rel))
		if strings.Contains(got, "/usr/local/bin/") {
			t.Errorf("%s still names /usr/local/bin with PREFIX=%s", rel, prefix)
		}
		if wantText := strings.ReplaceAll(readText(t, src), "/usr/local/bin/", prefix+"/bin/"); got != wantText {
			t.Errorf("%s is not the shipped conf with %s/bin", rel, prefix)
		}
	}
	if !strings.Contains(readText(t, filepath.Join(etc, "conf.d/haltguard.conf")), "\ncommand="+prefix+"/bin/haltguard -config /etc/superguard/superguard.yaml\n") {
		t.Error("conf.d/haltguard.conf does not run the installed haltguard")
	}
	for _, name := range listenerNames {
		if code, out := runIn(t, dest, nil, filepath.Join(dest, prefix, "bin", name), "--version"); code != 0 || !strings.HasPrefix(out, name+" ") {
			t.Errorf("installed %s --version: exit %d: %q", name, code, out)
		}
	}

	// Again, after the operator edited superguard.yaml and wrote a
	// supervisord.conf of their own for a file the install never wrote,
	// and after an earlier install left a conf.d file that nobody edited
	// but that this version ships differently.
	yaml := filepath.Join(etc, "superguard.yaml")
	edited := readText(t, yaml) + "# edited by the operator\n"
	writeText(t, yaml, edited, 0o640)
	older := "; an older version of memguard.conf\n"
	memconf := filepath.Join(etc, "conf.d/memguard.conf")
	writeText(t, memconf, older, 0o644)
	manifest := filepath.Join(etc, ".installed.sha256")
	setManifest(t, manifest, "conf.d/memguard.conf", fmt.Sprintf("%x", sha256.Sum256([]byte(older))))
	foreign := filepath.Join(etc, "conf.d/eventlog.conf")
	setManifest(t, manifest, "conf.d/eventlog.conf", "")
	writeText(t, foreign, "; the operator's own eventlog.conf\n", 0o644)
	binary := filepath.Join(dest, prefix, "bin/haltguard")
	writeText(t, binary, "#!/bin/sh\nexit 9\n", 0o755)

	code, out = runIn(t, root, append(vars, "UNITDIR=/etc/systemd/system"), "bash", "scripts/install.sh", "install")
	if code != 0 {
		t.Fatalf("install again: exit %d\n%s", code, out)
	}
	if got := readText(t, yaml); got != edited {
		t.Error("an edited superguard.yaml was overwritten")
	}
	if got := readText(t, yaml+".new"); got != readText(t, filepath.Join(root, "supervisor-conf/superguard.yaml")) {
		t.Error("superguard.yaml.new is not the shipped superguard.yaml")
	}
	if fi, err := os.Stat(yaml + ".new"); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("superguard.yaml.new: %v, %v; want mode 0640 like the file (it may name secrets)", fi, err)
	}
	if !strings.Contains(out, "kept /etc/superguard/superguard.yaml: it was edited; the shipped version is /etc/superguard/superguard.yaml.new") {
		t.Errorf("install did not say it kept the edited file:\n%s", out)
	}
	if got := readText(t, foreign); got != "; the operator's own eventlog.conf\n" {
		t.Error("a conf the install never wrote was overwritten")
	}
	if _, err := os.Stat(foreign + ".new"); err != nil {
		t.Errorf("no conf.d/eventlog.conf.new beside the operator's own: %v", err)
	}
	if got := readText(t, memconf); got == older || strings.Contains(got, "/usr/local/bin/") {
		t.Error("an unedited conf from an earlier install was not updated")
	}
	if !strings.Contains(out, "updated /etc/superguard/conf.d/memguard.conf") {
		t.Errorf("install did not say it updated conf.d/memguard.conf:\n%s", out)
	}
	for _, name := range []string{"supervisord.conf", "conf.d/haltguard.conf", "conf.d/memguard.conf"} {
		if _, err := os.Stat(filepath.Join(etc, name+".new")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s.new written for a file nobody edited: %v", name, err)
		}
	}
	if code, out := runIn(t, dest, nil, binary, "--version"); code != 0 || !strings.HasPrefix(out, "haltguard ") {
		t.Errorf("the binary was not replaced: exit %d: %q", code, out)
	}
	// Back to the shipped eventlog.conf: supervisord runs the installed tree next.
	if err := os.Rename(foreign+".new", foreign); err != nil {
		t.Fatal(err)
	}

	startInstalled(t, dest, prefix)

	before := readText(t, yaml)
	code, out = runIn(t, root, vars, "make", "--no-print-directory", "uninstall")
	if code != 0 {
		t.Fatalf("make uninstall: exit %d\n%s", code, out)
	}
	for _, name := range listenerNames {
		if _, err := os.Stat(filepath.Join(dest, prefix, "bin", name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("uninstall left %s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, "etc/systemd/system/superguard.service")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("uninstall left the unit: %v", err)
	}
	if got := readText(t, yaml); got != before {
		t.Error("uninstall touched superguard.yaml")
	}
	if !strings.Contains(out, "kept /etc/superguard") {
		t.Errorf("uninstall did not say it kept /etc/superguard:\n%s", out)
	}
}

// setManifest sets the checksum install.sh recorded for rel ("": none, as
// if it had never installed it).
func setManifest(t *testing.T, manifest, rel, sum string) {
	t.Helper()
	var out strings.Builder
	for line := range strings.Lines(readText(t, manifest)) {
		if !strings.HasSuffix(line, "  "+rel+"\n") {
			out.WriteString(line)
		}
	}
	if sum != "" {
		out.WriteString(sum + "  " + rel + "\n")
	}
	writeText(t, manifest, out.String(), 0o600)
}

// startInstalled runs supervisord from the tree make install wrote under
// dest, as the unit would (its production paths moved under dest, since
// the test cannot write /etc or /run): the operator's steps first — the
// secrets, and conf.d/trading.conf from the shipped example with the fake
// strategy for /opt/trading — then every listener must come up RUNNING and
// acknowledge events, and haltguard -check must pass against it.
func startInstalled(t *testing.T, dest, prefix string) {
	t.Helper()
	etc := filepath.Join(dest, "etc/superguard")
	for rel, v := range canaries {
		writeText(t, filepath.Join(etc, rel), v+"\n", 0o600)
	}
	fake := harness.Bin(t, "./integration/cmd/fakestrategy")
	ports := harness.PortPrefix(t, 4)
	example := harness.TradingExample(t, readText(t, filepath.Join(etc, "conf.d/trading.conf.example")), fake, ports)
	writeText(t, filepath.Join(etc, "conf.d/trading.conf"), example, 0o644)

	// Production paths under dest, everywhere the installed files name them.
	moved := strings.NewReplacer(
		prefix+"/bin/", filepath.Join(dest, prefix, "bin")+"/",
		"/etc/superguard", etc,
		"/run/superguard", filepath.Join(dest, "run/superguard"),
		"/var/log/superguard", filepath.Join(dest, "var/log/superguard"),
		"/var/lib/superguard", filepath.Join(dest, "var/lib/superguard"),
		"127.0.0.1:80%(process_num)02d", "127.0.0.1:"+ports+"%(process_num)02d",
	)
	confs, err := filepath.Glob(filepath.Join(etc, "conf.d/*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(confs, filepath.Join(etc, "superguard.yaml")) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		writeText(t, p, moved.Replace(readText(t, p)), fi.Mode().Perm())
	}
	if err := os.MkdirAll(filepath.Join(dest, "var/lib/superguard"), 0o711); err != nil {
		t.Fatal(err)
	}
	// The harness renders supervisord.conf into dest itself: the [include]
	// keeps pointing at the installed conf.d.
	main := moved.Replace(readText(t, filepath.Join(etc, "supervisord.conf")))
	for old, repl := range map[string]string{
		"\nfiles = conf.d/*.conf\n": "\nfiles = " + filepath.Join(etc, "conf.d/*.conf") + "\n",
		"\nloglevel=info\n":         "\nloglevel=debug\n",
	} {
		if !strings.Contains(main, old) {
			t.Fatalf("the installed supervisord.conf has no %q", strings.TrimSpace(old))
		}
		main = strings.Replace(main, old, repl, 1)
	}
	s := harness.Start(t, harness.Options{ConfTemplate: main, Dir: dest})
	for _, name := range append(append([]string{}, listenerNames...), "risk_manager", "md_feed", "trading:strategy_00") {
		s.WaitProcessState(t, name, supervisor.ProcessRunning, wait)
	}
	for _, name := range listenerNames {
		s.WaitAcknowledged(t, name, 2, wait)
	}
	haltguard := filepath.Join(dest, prefix, "bin/haltguard")
	code, out := runIn(t, dest, nil, haltguard, "-check", "-config", filepath.Join(etc, "superguard.yaml"), "-supervisord-conf", "none")
	if code != 0 || !strings.Contains(out, "OK (checked against supervisord at "+s.URL+")") {
		t.Errorf("installed haltguard -check against the installed tree: exit %d\n%s", code, out)
	}
	// The conf doctor on the conf supervisord runs: the installed listener
	// blocks pass; the strategies run as root here (the test host has no
	// trading user, so user= was dropped), which it must find.
	code, out = runIn(t, dest, nil, haltguard, "-check", "-config", filepath.Join(etc, "superguard.yaml"), "-supervisord-conf", s.ConfPath)
	want := "haltguard: supervisord.conf " + filepath.Join(etc, "conf.d/trading.conf") + " [program:strategy]: trading:strategy_00 has no user=: it runs as supervisord's own user, root under superguard.service, " +
		"and a strategy as root can read superguard's secrets and undo a halt; set user= to its own account (e.g. user=trading)\n"
	if code != 2 || out != want {
		t.Errorf("installed haltguard -check -supervisord-conf: exit %d\n%s\nwant exit 2 and\n%s", code, out, want)
	}
	s.Stop(t)
}
