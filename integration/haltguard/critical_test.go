package haltguard

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestStoppedCriticalHalts: a critical program stopped on request (a person
// or a script calling supervisorctl stop), not crashed, halts trading: the
// targets are stopped and the latch is set. So does one removed from
// supervisord's configuration by an update.
func TestStoppedCriticalHalts(t *testing.T) {
	t.Parallel()
	t.Run("stop", func(t *testing.T) {
		t.Parallel()
		sc := start(t, stack{targets: 3})
		if err := sc.Client.StopProcess(ctxT(t), riskName, true); err != nil {
			t.Fatal(err)
		}
		sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
		l := sc.latch(t)
		if !l.Latched || l.Process != riskName {
			t.Fatalf("latch = %+v, want set for %s", l, riskName)
		}
		if l.ProcessState != "STOPPING" && l.ProcessState != "STOPPED" {
			t.Errorf("latch trigger state %s, want STOPPING or STOPPED", l.ProcessState)
		}
		sc.waitPage(t, haltKey, "HALTED trading")
		// resume refuses for the same state, and status agrees: halted.
		if _, errOut, code := sc.cli(t, "resume"); code == 0 || !strings.Contains(errOut, "not RUNNING") {
			t.Errorf("resume while the risk manager is stopped: exit %d\n%s", code, errOut)
		}
		if _, _, code := sc.cli(t, "status"); code != 3 {
			t.Errorf("status exit %d, want 3 (halted)", code)
		}
	})
	t.Run("removed by an update", func(t *testing.T) {
		t.Parallel()
		sc := start(t, stack{targets: 3})
		conf, err := os.ReadFile(sc.ConfPath)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(conf), "[program:risk_manager]")
		j := strings.Index(string(conf)[i+1:], "\n[")
		if i < 0 || j < 0 {
			t.Fatalf("no risk_manager section in\n%s", conf)
		}
		if err := os.WriteFile(sc.ConfPath, []byte(string(conf)[:i]+string(conf)[i+1+j+1:]), 0o600); err != nil {
			t.Fatal(err)
		}
		supervisorctl(t, sc.Supervisord, "update")
		sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
		if l := sc.latch(t); !l.Latched || l.Process != riskName && l.Process != "risk_manager" {
			t.Fatalf("latch = %+v, want set for the removed risk manager", l)
		}
	})
}

// TestStartupGraceHalts: a critical program that never comes up (here
// autostart=false, as a typo or a missing start would leave it) halts
// trading once the start-up grace after supervisord's start has passed,
// while one that takes its time within the grace does not.
func TestStartupGraceHalts(t *testing.T) {
	t.Parallel()
	pd := alerttest.NewPagerDuty(t)
	s := harness.Start(t, harness.Options{
		Sections: `
[program:pricing_guard]
command={{bin "./integration/cmd/fakestrategy"}}
autostart=false
startsecs=0

[program:desk]
command={{bin "./integration/cmd/fakestrategy"}}
process_name=desk_%(process_num)02d
numprocs=2
startsecs=0
` + harness.Listener{Name: "haltguard", Command: haltguardCommand, Events: "PROCESS_STATE,TICK_5"}.Section(),
		Files: map[string]string{"superguard.yaml": `host: ` + host + `
state_path: {{.Dir}}/state.db
supervisor:
  url: {{.URL}}
sinks:
  - {name: pd, type: pagerduty, routing_key_env: ` + pdKeyEnv + `, events_url: "{{.Vars.pd}}"}
listeners:
  haltguard:
    critical: [pricing_guard]
    targets: [desk]
    startup_grace: 6s
`},
		Vars: map[string]string{"pd": pd.URL()},
		Env:  []string{pdKeyEnv + "=" + pdKey},
	})
	s.WaitProcessState(t, "desk:desk_00", supervisor.ProcessRunning, waitUp)
	s.WaitProcessState(t, "haltguard:haltguard", supervisor.ProcessRunning, waitUp)
	for _, n := range []string{"desk:desk_00", "desk:desk_01"} {
		s.WaitProcessState(t, n, supervisor.ProcessStopped, waitHalt)
	}
	log := s.ReadListenerStderr("haltguard")
	if !strings.Contains(log, "pricing_guard") || !strings.Contains(log, `"action":"halt"`) {
		t.Errorf("no halt for pricing_guard in haltguard's log:\n%s", tail(log, 3000))
	}
}

// TestMistargetedKillSwitchRefusesToRun: with targets (or critical) that
// match no process, haltguard exits at start-up with the reason, so that
// supervisord marks it FATAL; and a manual halt that can stop nothing is an
// error.
func TestMistargetedKillSwitchRefusesToRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, section, want string }{
		{"targets", "critical: [risk_manager]\n    targets: [tradnig]", `listeners.haltguard.targets: "tradnig" matches no program or group in supervisord`},
		{"critical", "critical: [risk_manger]\n    targets: [trading]", `listeners.haltguard.critical: "risk_manger" matches no program or group in supervisord`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := harness.Start(t, harness.Options{
				Sections: riskSection + `
[program:strat]
command={{bin "./integration/cmd/fakestrategy"}}
startsecs=0

[group:trading]
programs=strat
` + harness.Listener{Name: "haltguard", Command: haltguardCommand, Events: "PROCESS_STATE,TICK_5"}.Section(),
				Files: map[string]string{"superguard.yaml": "host: " + host + "\nstate_path: {{.Dir}}/state.db\nsupervisor:\n  url: {{.URL}}\nlisteners:\n  haltguard:\n    " + tc.section + "\n"},
			})
			s.WaitProcessState(t, "haltguard:haltguard", supervisor.ProcessFatal, waitUp)
			if log := strings.ReplaceAll(s.ReadListenerStderr("haltguard"), `\"`, `"`); !strings.Contains(log, tc.want) {
				t.Errorf("haltguard's log lacks %q:\n%s", tc.want, tail(log, 3000))
			}
			if tc.name != "targets" {
				return
			}
			cmd := exec.Command(harness.Bin(t, "./listeners/haltguard"), "halt", "--reason", "test")
			cmd.Env = testsupport.CleanEnv("SUPERGUARD_CONFIG=" + s.Path("superguard.yaml"))
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "match no process in supervisord: nothing could be stopped") {
				t.Errorf("halt with targets matching nothing: %v\n%s", err, out)
			}
		})
	}
}

// supervisorctl runs the real supervisorctl on the scenario's conf.
func supervisorctl(t *testing.T, s *harness.Supervisord, args ...string) string {
	t.Helper()
	ctl := strings.TrimSuffix(harness.SupervisordPath(t), "supervisord") + "supervisorctl"
	out, err := exec.Command(ctl, append([]string{"-c", s.ConfPath}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("supervisorctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}
