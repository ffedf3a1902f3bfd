package haltguard

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

var manualKey = host + "/-/halt"

// TestOperatorCommands: halt, status and resume from an operator's shell,
// with the refusal to resume while a critical program is down.
func TestOperatorCommands(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 4})

	out, _, code := sc.cli(t, "status")
	if code != 0 || !strings.HasPrefix(out, "not halted") || strings.Count(out, "target ") != 4 || !strings.Contains(out, "critical  risk_manager:risk_manager  RUNNING") {
		t.Errorf("status before the halt: exit %d\n%s", code, out)
	}

	out, errOut, code := sc.cli(t, "halt", "--reason", "broker outage", "--by", "alice")
	// The running haltguard sees the latch too and may stop a target
	// first: this command then lists it as already down.
	if code != 0 || !strings.HasPrefix(out, "HALTED") || !regexp.MustCompile(`\b[1-4] target\(s\) stopped`).MatchString(out) {
		t.Fatalf("halt: exit %d\n%s\n%s", code, out, errOut)
	}
	for i := range 4 {
		if name := fmt.Sprintf("trading:strat_%02d", i); !strings.Contains(lineWith(out, "stopped:")+lineWith(out, "already down:"), name) {
			t.Errorf("halt output names %s neither stopped nor already down:\n%s", name, out)
		}
	}
	sc.waitTargets(t, supervisor.ProcessStopped, time.Second)
	l := sc.latch(t)
	if !l.Latched || l.Actor != "cli:alice" || l.Reason != "broker outage" || l.Process != "" || l.Completed.IsZero() {
		t.Errorf("latch %+v", l)
	}
	ev := sc.waitPage(t, manualKey, "manual halt by cli:alice (broker outage)")
	if detail(ev, "trace_id") != l.TraceID {
		t.Errorf("page trace %q, latch trace %q", detail(ev, "trace_id"), l.TraceID)
	}

	out, _, code = sc.cli(t, "status")
	if code != 3 || !strings.HasPrefix(out, "HALTED since") || !strings.Contains(out, "reason:  broker outage") ||
		!strings.Contains(out, "trace:   "+l.TraceID) || !strings.Contains(out, "STOPPED") {
		t.Errorf("status while halted: exit %d (want 3)\n%s", code, out)
	}

	// A second halt only makes sure everything is stopped.
	out, _, code = sc.cli(t, "halt", "--reason", "again")
	if code != 0 || !strings.HasPrefix(out, "already halted") {
		t.Errorf("second halt: exit %d\n%s", code, out)
	}

	// Resuming is refused while the risk manager is down.
	sc.breakRisk(t)
	sc.WaitProcessState(t, riskName, supervisor.ProcessFatal, waitHalt)
	_, errOut, code = sc.cli(t, "resume", "--start")
	if code != 1 || !strings.Contains(errOut, "a critical program is not RUNNING: risk_manager:risk_manager FATAL") {
		t.Errorf("resume while risk_manager is FATAL: exit %d\n%s", code, errOut)
	}
	if !sc.latch(t).Latched {
		t.Fatal("a refused resume cleared the latch")
	}

	sc.fixRisk(t)
	out, errOut, code = sc.cli(t, "resume", "--start", "--by", "bob")
	if code != 0 || !strings.HasPrefix(out, "resumed") || !strings.Contains(out, "started: trading:strat_00") {
		t.Fatalf("resume --start: exit %d\n%s\n%s", code, out, errOut)
	}
	sc.waitTargets(t, supervisor.ProcessRunning, waitHalt)
	if l := sc.latch(t); l.Latched {
		t.Errorf("still latched after resume: %+v", l)
	}
	testsupport.Eventually(t, waitHalt, "the halt incident resolved", func() (bool, string) {
		return sc.pd.Resolves(manualKey) == 1, ""
	})
	out, _, code = sc.cli(t, "status")
	if code != 0 || !strings.Contains(out, "last resumed") || !strings.Contains(out, "by cli:bob") {
		t.Errorf("status after resume: exit %d\n%s", code, out)
	}
	// The targets stay up: nothing fights the resume.
	sc.waitTicks(t, 2)
	for _, p := range sc.targets(t) {
		if p.State != supervisor.ProcessRunning {
			t.Errorf("%s is %s after the resume", p.FullName(), p.State)
		}
	}
}

// TestRemoteSwitch: any XML-RPC client pulls the switch with
// sendRemoteCommEvent, and resumes the same way.
func TestRemoteSwitch(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 4, haltguard: "remote_resume: true"})
	if err := sc.Client.SendRemoteCommEvent(ctxT(t), "superguard.halt", `{"reason":"limits breached","by":"healthprobe"}`); err != nil {
		t.Fatal(err)
	}
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	l := sc.latch(t)
	if !l.Latched || l.Actor != "remote:healthprobe" || l.Reason != "limits breached" {
		t.Fatalf("latch %+v", l)
	}
	sc.waitPage(t, manualKey, "manual halt by remote:healthprobe (limits breached)")

	// A resume with unreadable data must not resume.
	if err := sc.Client.SendRemoteCommEvent(ctxT(t), "superguard.resume", `not json`); err != nil {
		t.Fatal(err)
	}
	sc.waitLog(t, `remote resume: unreadable data: ignored`, waitHalt)
	if !sc.latch(t).Latched {
		t.Fatal("a garbled resume resumed")
	}
	if err := sc.Client.SendRemoteCommEvent(ctxT(t), "superguard.resume", `{"by":"ops","start":true}`); err != nil {
		t.Fatal(err)
	}
	sc.waitTargets(t, supervisor.ProcessRunning, waitHalt)
	if l := sc.latch(t); l.Latched {
		t.Errorf("latched after superguard.resume: %+v", l)
	}
	sc.waitAudit(t, "resume", func(m map[string]any) bool { return m["by"] == "remote:ops" }, waitHalt)
}

// TestManualStartWhileLatchedIsUndone: a person's start of a target while
// trading is halted is stopped again at once and reported.
func TestManualStartWhileLatchedIsUndone(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 3})
	if _, _, code := sc.cli(t, "halt", "--reason", "test"); code != 0 {
		t.Fatal("halt failed")
	}
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	l := sc.latch(t)

	// Started without waiting: supervisorctl start would wait for RUNNING
	// and report the stop as a failure.
	if err := sc.Client.StartProcess(ctxT(t), "trading:strat_01", false); err != nil {
		t.Fatal(err)
	}
	enforce := sc.waitAudit(t, "enforce", nil, waitHalt)
	if enforce["trace_id"] != l.TraceID {
		t.Errorf("enforce audit %v: want the halt's trace id %s", enforce, l.TraceID)
	}
	sc.waitAudit(t, "stop", func(m map[string]any) bool { return m["process"] == "trading:strat_01" }, waitHalt)
	sc.WaitProcessState(t, "trading:strat_01", supervisor.ProcessStopped, waitHalt)
	sc.waitPage(t, manualKey, "stopped trading:strat_01 again")
	// It stays stopped.
	sc.waitTicks(t, 2)
	if info, _ := sc.Client.GetProcessInfo(ctxT(t), "trading:strat_01"); info.State != supervisor.ProcessStopped {
		t.Errorf("strat_01 is %s", info.State)
	}
}

// TestGateRefusesWhileLatched: a strategy started behind `haltguard gate`
// runs normally, and refuses to start while the latch is set (as after a
// reboot, when strategies spawn before haltguard), ending FATAL with the
// reason in its stderr log.
func TestGateRefusesWhileLatched(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{
		targets: 2,
		members: ",gated",
		extra: `
[program:gated]
command={{bin "./listeners/haltguard"}} gate -config {{.Dir}}/superguard.yaml -- {{bin "./integration/cmd/fakestrategy"}} -name gated
startsecs=1
startretries=1
priority=20
stderr_logfile={{.Dir}}/gated.err
`,
	})
	sc.WaitProcessState(t, "trading:gated", supervisor.ProcessRunning, waitUp)
	testsupport.Eventually(t, waitUp, "the gate to exec the strategy", func() (bool, string) {
		b, _ := os.ReadFile(sc.Path("gated.err"))
		return strings.Contains(string(b), "fakestrategy[gated]: started"), string(b)
	})

	if _, _, code := sc.cli(t, "halt", "--reason", "gate test"); code != 0 {
		t.Fatal("halt failed")
	}
	sc.WaitProcessState(t, "trading:gated", supervisor.ProcessStopped, waitHalt)
	// haltguard is not running yet (as after a reboot): only the gate stands.
	if err := sc.Client.StopProcess(ctxT(t), "haltguard:haltguard", true); err != nil {
		t.Fatal(err)
	}
	if err := sc.Client.StartProcess(ctxT(t), "trading:gated", false); err != nil {
		t.Fatal(err)
	}
	info := sc.WaitProcessState(t, "trading:gated", supervisor.ProcessFatal, waitHalt)
	b, _ := os.ReadFile(sc.Path("gated.err"))
	if !strings.Contains(string(b), "haltguard gate: trading is HALTED since") || !strings.Contains(string(b), "gate test") {
		t.Errorf("gated stderr lacks the refusal:\n%s", b)
	}
	if strings.Count(string(b), "fakestrategy[gated]: started") != 1 {
		t.Errorf("the strategy ran while halted:\n%s", b)
	}
	t.Logf("gated: %s (%s)", info.State, info.Description)
}

// TestCheck: -check refuses a bad config with a message naming the field,
// checking it against the running supervisord when it is reachable.
func TestCheck(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 2})
	base, err := os.ReadFile(sc.config)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to string // replaced in the scenario's config
		wantCode int
		want     string // in stdout+stderr
	}{
		{name: "valid", wantCode: 0, want: "OK (checked against supervisord at unix://"},
		{name: "unknown group", from: "targets: [trading]", to: "targets: [tradnig]", wantCode: 2,
			want: `listeners.haltguard.targets: "tradnig" matches no program or group in supervisord (unknown group?)`},
		{name: "empty target list", from: "targets: [trading]", to: "targets: []", wantCode: 2,
			want: "listeners.haltguard.targets: empty target list"},
		{name: "target is critical", from: "targets: [trading]", to: "targets: [trading, risk_manager]", wantCode: 2,
			want: `listeners.haltguard.targets: "risk_manager" is also critical`},
		{name: "unknown field", from: "targets: [trading]", to: "targets: [trading]\n    triger_on_exited: true", wantCode: 2,
			want: `line 14: unknown field "triger_on_exited"`},
		{name: "supervisord unreachable", from: "url: unix://", to: "url: unix:///nonexistent", wantCode: 1,
			want: "supervisord not reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := strings.Replace(string(base), tt.from, tt.to, 1)
			if tt.from != "" && conf == string(base) {
				t.Fatalf("%q not in the config", tt.from)
			}
			path := sc.Path(strings.ReplaceAll(tt.name, " ", "_") + ".yaml")
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := sc.cli(t, "-check", "-config", path)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant: %s", code, tt.wantCode, out, errOut, tt.want)
			}
		})
	}
}

// lineWith is the first line of out that holds part.
func lineWith(out, part string) string {
	for l := range strings.Lines(out) {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}
