// Package marketclock_test runs the marketclock binary under a real
// supervisord 4.x: a special session written in the overlay for today,
// seconds from now, drives its phases against real programs and groups.
package marketclock_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/calendar"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Generous bounds: the machine may be loaded. Every wait ends on an event.
const waitPhase = 90 * time.Second

// session picks an exchange whose local day has room for a session from
// lead to lead+length from now, and returns the overlay line that makes
// it a special session today.
func session(t *testing.T, lead, length time.Duration) (code, line string) {
	now := time.Now()
	for _, code := range calendar.Codes() {
		x, _ := calendar.Get(code)
		loc := x.Location()
		open, close := now.Add(lead).In(loc), now.Add(lead+length).In(loc)
		if open.Hour() < 1 || close.Hour() >= 22 || open.Day() != close.Day() {
			continue
		}
		d := calendar.DateIn(open, loc)
		return code, fmt.Sprintf("%s %s session %s-%s integration test session\n", d, code, open.Format("15:04:05"), close.Format("15:04:05"))
	}
	t.Skip("no exchange's day has room for the session now")
	return "", ""
}

// modeRecorder is a strategy that appends each line on its stdin, and each
// USR1/USR2, to DIR/NAME.mode.
const modeRecorder = `/bin/sh -c 'trap "echo USR1 >> {{.Dir}}/%(program_name)s.mode" USR1; trap "echo USR2 >> {{.Dir}}/%(program_name)s.mode" USR2; while :; do if read -r l; then echo "$l" >> {{.Dir}}/%(program_name)s.mode; else sleep 0.2; fi; done'`

func programs() string {
	var b strings.Builder
	for _, p := range []string{"feed", "alpha", "beta"} {
		fmt.Fprintf(&b, "\n[program:%s]\ncommand=%s\nautostart=false\nstartsecs=1\nstopwaitsecs=2\nstderr_logfile={{.Dir}}/%s.err\n", p, modeRecorder, p)
	}
	b.WriteString("\n[group:md]\nprograms=feed\n\n[group:strat]\nprograms=alpha,beta\n")
	return b.String()
}

func start(t *testing.T, body, overlay string, halted bool) *harness.Supervisord {
	t.Helper()
	guards := []harness.Guard{{Name: "marketclock", Body: body}}
	if halted {
		guards = append(guards, harness.Guard{Name: "haltguard", Body: "critical: [nothing]\ntargets: [\"strat:*\"]\n"})
	}
	return harness.StartGuards(t, "mctest", harness.Options{Sections: programs(), Files: map[string]string{"overlay.txt": overlay}}, guards...)
}

func waitMode(t *testing.T, s *harness.Supervisord, program, want string) {
	t.Helper()
	testsupport.Eventually(t, waitPhase, program+" told "+want, func() (bool, string) {
		b, _ := os.ReadFile(filepath.Join(s.Dir, program+".mode"))
		return strings.Contains(string(b), want), string(b)
	})
}

// TestTradingDay: connect starts the md group, the pre-open check sees it
// RUNNING, the open starts the strat group and tells it normal mode on
// its stdin, close-only reaches it the same way, the stop stops both
// groups; status and plan say so.
func TestTradingDay(t *testing.T) {
	t.Parallel()
	code, line := session(t, 25*time.Second, 25*time.Second)
	s := start(t, `exchange: `+code+`
overlay: {{.Dir}}/overlay.txt
modes: {processes: ["strat:*"], via: stdin, close_only: CLOSE_ONLY, normal: NORMAL}
phases:
  - {name: connect, at: open - 15s, start: ["md:*"]}
  - {name: preopen, at: open - 8s, checks: {running: ["md:*"], retry: 1s}}
  - {name: open, at: open, requires: preopen, start: ["strat:*"], mode: normal, run: [{name: hello, argv: [/bin/sh, -c, 'echo "$MARKETCLOCK_PHASE $MARKETCLOCK_SESSION" > {{.Dir}}/hello']}]}
  - {name: close-only, at: close - 10s, mode: close_only}
  - {name: stop, at: close + 2s, stop: ["strat:*", "md:*"]}
`, line, false)
	s.WaitProcessState(t, "md:feed", supervisor.ProcessRunning, waitPhase)
	s.WaitProcessState(t, "strat:alpha", supervisor.ProcessRunning, waitPhase)
	s.WaitProcessState(t, "strat:beta", supervisor.ProcessRunning, waitPhase)
	waitMode(t, s, "alpha", "NORMAL")
	waitMode(t, s, "beta", "NORMAL")
	waitMode(t, s, "alpha", "CLOSE_ONLY")
	s.WaitProcessState(t, "strat:alpha", supervisor.ProcessStopped, waitPhase)
	s.WaitProcessState(t, "md:feed", supervisor.ProcessStopped, waitPhase)
	if b, _ := os.ReadFile(filepath.Join(s.Dir, "hello")); strings.TrimSpace(string(b)) != "open open" {
		t.Errorf("the open's command saw %q, want phase and session open", b)
	}
	code2, out := harness.RunBin(t, "./listeners/marketclock", "status", "-config", s.Path("superguard.yaml"))
	if code2 != 0 || !strings.Contains(out, "stop") || strings.Count(out, " done ") < 4 {
		t.Errorf("marketclock status: exit %d\n%s", code2, out)
	}
	code2, out = harness.RunBin(t, "./listeners/marketclock", "plan", "-days", "1", "-config", s.Path("superguard.yaml"))
	if code2 != 0 || !strings.Contains(out, "special (overlay)") || !strings.Contains(out, "integration test session") {
		t.Errorf("marketclock plan: exit %d\n%s", code2, out)
	}
}

// TestHaltedAndSignals: while trading is halted the open starts nothing;
// close-only by a signal reaches what runs (here started by hand), and a
// mode command runs.
func TestHaltedAndSignals(t *testing.T) {
	t.Parallel()
	code, line := session(t, 20*time.Second, 20*time.Second)
	s := start(t, `exchange: `+code+`
overlay: {{.Dir}}/overlay.txt
modes: {processes: ["strat:alpha"], via: signal, close_only: USR1, normal: USR2}
phases:
  - {name: open, at: open, start: ["strat:*"], mode: normal}
  - {name: close-only, at: close - 5s, mode: close_only}
`, line, true)
	if c, out := harness.RunBin(t, "./listeners/haltguard", "halt", "--reason", "drill", "-config", s.Path("superguard.yaml")); c != 0 {
		t.Fatalf("haltguard halt: %d\n%s", c, out)
	}
	s.WaitListenerLog(t, "marketclock", `refused: start strat:*`, waitPhase)
	if st := s.WaitProcessState(t, "strat:beta", supervisor.ProcessStopped, time.Second); st.State != supervisor.ProcessStopped {
		t.Fatal("started while halted")
	}
	c := s.NewClient(t, supervisor.Config{URL: s.URL})
	if err := c.StartProcess(t.Context(), "strat:alpha", true); err != nil {
		t.Fatal(err)
	}
	waitMode(t, s, "alpha", "USR1")
	if b, _ := os.ReadFile(filepath.Join(s.Dir, "alpha.mode")); strings.Contains(string(b), "USR2") {
		t.Errorf("normal mode sent while halted: %q", b)
	}
}

// TestCheckRefuses: -check names a bad calendar code, overlay line and
// phase expression.
func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	overlay := filepath.Join(dir, "overlay.txt")
	if err := os.WriteFile(overlay, []byte("2027-01-08 XNYS shut no such kind\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "superguard.yaml")
	yaml := "state_path: " + filepath.Join(dir, "state.db") + "\nlisteners:\n  marketclock:\n    exchange: XNYZ\n    phases:\n      - {name: open, at: opne + 5m, start: [x]}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := harness.RunBin(t, "./listeners/marketclock", "-check", "-config", cfg)
	if code != 2 || !strings.Contains(out, `unknown exchange "XNYZ"`) || !strings.Contains(out, `phases[0].at: "opne + 5m"`) {
		t.Errorf("-check: exit %d\n%s", code, out)
	}
	yaml = "state_path: " + filepath.Join(dir, "state.db") + "\nlisteners:\n  marketclock:\n    exchange: XNYS\n    overlay: " + overlay + "\n    phases:\n      - {name: open, at: open, start: [x]}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out = harness.RunBin(t, "./listeners/marketclock", "-check", "-config", cfg)
	if code != 2 || !strings.Contains(out, overlay+`:1: unknown kind "shut"`) {
		t.Errorf("-check with a bad overlay line: exit %d\n%s", code, out)
	}
}
