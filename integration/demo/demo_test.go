// Package demo runs `make demo`'s program the way the Makefile does, non-
// interactively, against the real supervisord, and checks its timeline:
// every step shows what it claims, in order, and nothing it started
// outlives it, also when interrupted.
package demo

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// demoBin builds the demo and everything it runs into one directory, under
// the names `make demo-bin` gives them, and returns the demo's path and
// that directory.
func demoBin(t *testing.T) (demo, bin string) {
	t.Helper()
	bin = t.TempDir()
	for _, pkg := range []string{"./listeners/eventlog", "./listeners/crashpager", "./listeners/haltguard",
		"./listeners/healthprobe", "./listeners/memguard", "./integration/cmd/fakestrategy", "./scripts/demo"} {
		if err := os.Symlink(harness.Bin(t, pkg), filepath.Join(bin, filepath.Base(pkg))); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(bin, "demo"), bin
}

func confDir(t *testing.T) string {
	t.Helper()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "supervisor-conf", "demo")
}

// stackProcesses lists the live processes whose command line names dir:
// supervisord and everything it started there.
func stackProcesses(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(b), dir) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(st), ") Z ") {
			continue // a zombie is dead
		}
		out = append(out, e.Name()+" "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

// TestDemoTimeline plays the whole scenario and checks its story line by
// line, in order.
func TestDemoTimeline(t *testing.T) {
	t.Parallel()
	demo, bin := demoBin(t)
	dir := filepath.Join(t.TempDir(), "stack")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, demo, "-bin", bin, "-conf", confDir(t), "-supervisord", harness.SupervisordPath(t),
		"-dir", dir, "-color", "never")
	cmd.Env = append(testsupport.CleanEnv(), "SLACK_TOKEN=xoxb-CANARY", "SUPERGUARD_DEMO_SINKS=")
	out, err := cmd.CombinedOutput()
	text := string(out)
	t.Logf("demo output:\n%s", text)
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	// The story, in order. Each pattern must match a line after the
	// previous one's.
	story := []string{
		`^superguard demo: a trading stack under a real supervisord`,
		`alerts go to the listeners' logs and the state store only`,
		`==>  starting the stack$`,
		`listeners: eventlog, crashpager, haltguard, healthprobe, memguard$`,
		`ok   every program RUNNING and every strategy healthy`,
		`==>  step 1/8: a strategy's feed freezes \(trading:momentum\)`,
		`alrt trigger warning stale: unhealthy: http health-momentum on trading:momentum: last_tick \S+ is [0-9.]+s old \(max 3s\)`,
		`ok   healthprobe restarted trading:momentum [0-9.]+ (s|ms) after the signal \(pid \d+ -> \d+\)`,
		`==>  step 2/8: a strategy hangs \(trading:mean_revert\)`,
		`alrt trigger warning stale: unhealthy: http health-mean_revert on trading:mean_revert: no answer within 2s`,
		`ok   healthprobe restarted trading:mean_revert`,
		`==>  step 3/8: a strategy leaks memory \(trading:market_maker\)`,
		`alrt trigger warning memory: memory trading:market_maker: \d+ MiB of tree_rss above its limit 160 MiB`,
		`ok   memguard restarted trading:market_maker`,
		`==>  step 4/8: a strategy crash-loops \(trading:stat_arb\)`,
		`crash 4: pid \d+ killed, supervisord restarted it as \d+`,
		`ok   4 crashes -> 1 crash notification\(s\) \(the incident counts 4\) and one critical spree alert`,
		`==>  step 5/8: the risk manager dies`,
		`ok   haltguard stopped the trading group \(4 strategies\) [0-9.]+ (ms|s) after the risk manager died`,
		`ok   halt latch on: risk_manager:risk_manager EXITED`,
		`==>  step 6/8: an operator starts a strategy while trading is halted`,
		`ok   refused: .*startProcess`,
		`the gate in front of the strategy said: haltguard gate: trading is HALTED`,
		`ok   trading:momentum is (FATAL|STOPPED|EXITED): it never ran while halted`,
		`==>  step 7/8: haltguard resume --start`,
		`\| resumed: halt latch cleared`,
		`\| started: trading:market_maker, trading:mean_revert, trading:momentum, trading:stat_arb`,
		`ok   latch cleared and the trading group RUNNING`,
		`==>  step 8/8: the stack is healthy again`,
		`ok   every program RUNNING, every probe healthy, halt latch clear`,
		`^What superguard did$`,
		`^  risk manager death -> trading group stopped +[0-9.]+ (ms|s)  haltguard`,
		`^The scenario took [0-9.]+ s\.`,
	}
	lines := strings.Split(text, "\n")
	at := 0
	for _, pat := range story {
		re := regexp.MustCompile(pat)
		found := false
		for ; at < len(lines); at++ {
			if re.MatchString(lines[at]) {
				found, at = true, at+1
				break
			}
		}
		if !found {
			t.Fatalf("no line matching %q after the previous step's", pat)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, " FAIL ") || strings.Contains(l, "\x1b[") {
			t.Errorf("line %q: a failure or a colour code in plain output", l)
		}
	}
	// The step's alert is printed once per notification, never the same
	// trigger twice.
	if n := strings.Count(text, "alrt trigger critical halt:"); n != 1 {
		t.Errorf("%d halt triggers printed, want 1", n)
	}
	if strings.Contains(text, "CANARY") {
		t.Error("the demo printed a variable of the caller's environment")
	}
	// Nothing it started outlives it, and no listener got the caller's
	// token.
	if left := stackProcesses(dir); len(left) > 0 {
		t.Errorf("left running: %v", left)
	}
	env, err := os.ReadFile(filepath.Join(dir, "log", "supervisord.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(env), "exited: haltguard") && !strings.Contains(string(env), "stopped: haltguard") {
		t.Errorf("supervisord's log does not show haltguard stopped at the end:\n%s", env)
	}
}

// TestDemoInterrupted: Ctrl-C in the middle of the scenario stops every
// process the demo started and removes its temporary directory.
func TestDemoInterrupted(t *testing.T) {
	t.Parallel()
	demo, bin := demoBin(t)
	tmp := t.TempDir()
	cmd := exec.Command(demo, "-bin", bin, "-conf", confDir(t), "-supervisord", harness.SupervisordPath(t), "-color", "never")
	cmd.Env = append(testsupport.CleanEnv(), "TMPDIR="+tmp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	reached := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		once := false
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if !once && strings.Contains(sc.Text(), "step 2/8") {
				once = true
				close(reached)
			}
		}
	}()
	select {
	case <-reached:
	case <-done:
		t.Fatalf("the demo ended before step 2:\n%s", seen.String())
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the demo did not reach step 2 within 3 minutes")
	}
	dirs, _ := filepath.Glob(filepath.Join(tmp, "superguard-demo-*"))
	if len(dirs) != 1 {
		t.Fatalf("demo directories under TMPDIR: %v", dirs)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-done
	if code := testsupport.ExitCode(t, cmd.Wait(), "demo"); code != 130 {
		t.Errorf("exit after SIGINT: status %d, want 130\n%s", code, seen.String())
	}
	if !strings.Contains(seen.String(), "interrupted: stopping everything") {
		t.Errorf("no word about the interruption:\n%s", seen.String())
	}
	if left := stackProcesses(dirs[0]); len(left) > 0 {
		t.Errorf("left running after Ctrl-C: %v", left)
	}
	if _, err := os.Stat(dirs[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo's directory %s is still there (%v)", dirs[0], err)
	}
}
