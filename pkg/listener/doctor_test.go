package listener

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/confdoctor"
)

// TestConfDoctor: -check reads the supervisord.conf that runs the
// listener, says what is wrong with it (file, section, message) and exits
// 2; one found by the search that runs another supervisord's programs is
// a note, and -supervisord-conf none skips it.
func TestConfDoctor(t *testing.T) {
	good := writeFile(t, "good.yaml", "listeners:\n  testguard: {threshold: 5}\n")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// testguard is no superguard listener the doctor knows: it finds the
	// other listeners' problems, and reports that none runs testguard.
	other := write("other.conf", "[program:web]\ncommand=/bin/sleep 100\n")
	logged := write("logged.conf", "[eventlistener:pager]\ncommand=crashpager\nevents=PROCESS_STATE,TICK_5\nbuffer_size=1024\npriority=1000\n\n[eventlistener:tg]\ncommand=testguard\n")
	missing := filepath.Join(dir, "missing.conf")
	cwd := t.TempDir()
	if err := os.WriteFile(filepath.Join(cwd, "supervisord.conf"), []byte("[program:web]\ncommand=/bin/sleep 100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	cases := []testsupport.CLICase{
		{Name: "none", Args: []string{"-check", "-file-only", "-config", good, "-supervisord-conf", "none"},
			WantStdout: "testguard: config " + good + ": OK (file only)\n"},
		{Name: "named, runs no such listener", Args: []string{"-check", "-file-only", "-config", good, "-supervisord-conf", other},
			WantCode: ExitUsage, WantStderr: "testguard: supervisord.conf " + other + ": no [eventlistener:x] runs testguard (a command=.../testguard): supervisord would not start it\n"},
		{Name: "another listener's stdout logged", Args: []string{"-check", "-file-only", "-config", good, "-supervisord-conf", logged},
			WantCode: ExitUsage, WantStderr: "testguard: supervisord.conf " + logged + " [eventlistener:pager]: stdout_logfile=AUTO: a listener's stdout carries the protocol and must not be logged; set stdout_logfile=NONE\n"},
		{Name: "missing", Args: []string{"-check", "-file-only", "-config", good, "-supervisord-conf", missing},
			WantCode: ExitUsage, WantStderr: "testguard: supervisord.conf cannot read " + missing + ": supervisord would not start: open " + missing + ": no such file or directory\n"},
	}
	// The search finds ./supervisord.conf unless a file earlier in the
	// order exists on this machine (superguard installed here).
	if path, _ := confdoctor.Locate(""); path == "supervisord.conf" {
		cases = append(cases, testsupport.CLICase{Name: "found by the search, another supervisord's", Args: []string{"-check", "-file-only", "-config", good},
			WantStderr: "testguard: note: supervisord.conf " + filepath.Join(cwd, "supervisord.conf") + " runs no testguard listener: not checked; name the one that does with -supervisord-conf\n"})
	} else {
		t.Logf("the search finds %s before ./supervisord.conf: that case is not run", path)
	}
	testsupport.RunCLI(t, cases, func(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
		return Run(testSpec(Needs{}, &recorder{}), args, IO{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	})
}
