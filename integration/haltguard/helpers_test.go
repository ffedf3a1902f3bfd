package haltguard

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Timeouts of the scenarios' waits (generous: the machine is shared).
const (
	waitUp   = 30 * time.Second // supervisord, haltguard and the stack to come up
	waitHalt = 20 * time.Second // a halt to be carried out and paged
)

const (
	host     = "testhost"
	pdKeyEnv = "SUPERGUARD_TEST_PD_KEY"
	pdKey    = "0123456789abcdef0123456789abcdef" // 32 characters, as PagerDuty wants
	riskName = "risk_manager:risk_manager"
)

// haltKey is the dedup key the halt pages under when risk_manager's exit
// caused it.
var haltKey = host + "/" + riskName + "/halt"

// riskKeys matches (as a waitPage key) every key about risk_manager: a
// check may find it EXITED, BACKOFF or FATAL.
var riskKeys = host + "/" + riskName + "/"

// scenario is a real supervisord running risk_manager, a trading group of
// fakestrategy processes and haltguard, with a fake PagerDuty receiving the
// pages.
type scenario struct {
	*harness.Supervisord
	pd       *alerttest.PagerDuty
	config   string // the shared YAML config
	statePth string
}

// stack configures a scenario.
type stack struct {
	targets     int    // fakestrategy processes in group trading (default 10)
	targetArgs  string // extra fakestrategy flags for every target
	haltguard   string // YAML lines added to listeners.haltguard
	events      string // haltguard's events= (default PROCESS_STATE,TICK_5,REMOTE_COMMUNICATION)
	bufferSize  int    // haltguard's buffer_size (default 1024)
	listenerEnv string // haltguard's environment= (supervisord syntax)
	extra       string // more conf sections
	members     string // more programs of group trading (",name"), defined in extra
	notReady    bool   // do not wait for haltguard's start-up check (it cannot reach supervisord)
	statePath   string // state_path (default {{.Dir}}/state.db)
	expect      []harness.Problem
}

// risk_manager runs until the file risk.broken exists: then it dumps its
// SUPERGUARD_* environment (secrets included, as a careless strategy
// might) and says why on stderr, and exits 3 (unexpected), and fails to start again the same way
// until supervisord marks it FATAL.
const riskSection = `
[program:risk_manager]
command=sh -c 'while [ ! -e {{.Dir}}/risk.broken ]; do sleep 0.1; done; env | grep SUPERGUARD >&2; echo "risk limits unavailable: broker session lost" >&2; exit 3'
startsecs=1
startretries=1
autorestart=true
stopwaitsecs=2
priority=10
stderr_logfile={{.Dir}}/risk_manager.err
`

// haltguardCommand runs the built haltguard on the scenario's config.
const haltguardCommand = `{{bin "./listeners/haltguard"}} -config {{.Dir}}/superguard.yaml`

func start(t *testing.T, st stack) *scenario {
	t.Helper()
	if st.targets == 0 {
		st.targets = 10
	}
	if st.events == "" {
		st.events = "PROCESS_STATE,TICK_5,REMOTE_COMMUNICATION"
	}
	if st.bufferSize == 0 {
		st.bufferSize = 1024
	}
	if !strings.Contains(st.haltguard, "verify_timeout") {
		st.haltguard += "\nverify_timeout: 5s"
	}
	pd := alerttest.NewPagerDuty(t)
	var env []string
	if st.listenerEnv != "" {
		env = append(env, "environment="+st.listenerEnv)
	}
	sections := riskSection + fmt.Sprintf(`
[program:strat]
command={{bin "./integration/cmd/fakestrategy"}} %s
process_name=strat_%%(process_num)02d
numprocs=%d
startsecs=0
autorestart=true
stopwaitsecs=5
priority=20

[group:trading]
programs=strat%s`, st.targetArgs, st.targets, st.members) + harness.Listener{Name: "haltguard", Command: haltguardCommand,
		Events: st.events, BufferSize: st.bufferSize, Extra: env}.Section() + "\n" + st.extra

	yaml := `host: ` + host + `
state_path: ` + cmp.Or(st.statePath, "{{.Dir}}/state.db") + `
supervisor:
  url: {{.URL}}
sinks:
  - {name: pd, type: pagerduty, routing_key_env: ` + pdKeyEnv + `, events_url: "{{.Vars.pd}}", rate: 50}
  - {name: log, type: log}
routes:
  - sinks: [pd, log]
listeners:
  haltguard:
    critical: [risk_manager]
    targets: [trading]
` + indent(st.haltguard, "    ")

	s := harness.Start(t, harness.Options{
		Sections: sections,
		Files:    map[string]string{"superguard.yaml": yaml},
		Vars:     map[string]string{"pd": pd.URL()},
		Env:      []string{pdKeyEnv + "=" + pdKey, "SUPERGUARD_LOG_LEVEL=debug"},
		Expect:   st.expect,
	})
	sc := &scenario{Supervisord: s, pd: pd, config: s.Path("superguard.yaml"),
		statePth: strings.ReplaceAll(cmp.Or(st.statePath, "{{.Dir}}/state.db"), "{{.Dir}}", s.Dir)}
	for i := range st.targets {
		s.WaitProcessState(t, fmt.Sprintf("trading:strat_%02d", i), supervisor.ProcessRunning, waitUp)
	}
	s.WaitProcessState(t, riskName, supervisor.ProcessRunning, waitUp)
	s.WaitProcessState(t, "haltguard:haltguard", supervisor.ProcessRunning, waitUp)
	if st.notReady {
		sc.waitLog(t, `"message":"haltguard starting"`, waitUp)
		return sc
	}
	// Steady state: the start-up check has run, and haltguard has handled
	// the state events of the start-up, which supervisord delivers after it
	// is RUNNING; a halt the test makes next would otherwise race with a
	// target's late RUNNING event (and haltguard would stop that target
	// itself, as started while halted).
	sc.waitLog(t, `"message":"reconciled"`, waitUp)
	if strings.Contains(st.events, "REMOTE_COMMUNICATION") && len(st.expect) == 0 {
		sc.barrier(t)
	}
	return sc
}

// barrier waits until haltguard has handled every event supervisord queued
// for it so far: supervisord delivers a pool's events in order, so once an
// event of a type haltguard ignores, sent now, is handled (the debug log
// says so), every earlier one is. Call it once per scenario, with no other
// REMOTE_COMMUNICATION sent before.
func (sc *scenario) barrier(t *testing.T) {
	t.Helper()
	if err := sc.Client.SendRemoteCommEvent(ctxT(t), "superguard.test.barrier", ""); err != nil {
		t.Fatal(err)
	}
	sc.waitLog(t, `"eventname":"REMOTE_COMMUNICATION".*"message":"event handled"`, waitUp)
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func (sc *scenario) targets(t *testing.T) []supervisor.ProcessInfo {
	t.Helper()
	procs, err := sc.Client.GetAllProcessInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []supervisor.ProcessInfo
	for _, p := range procs {
		if p.Group == "trading" {
			out = append(out, p)
		}
	}
	return out
}

// waitTargets waits until every target is in state want.
func (sc *scenario) waitTargets(t *testing.T, want supervisor.ProcessState, timeout time.Duration) {
	t.Helper()
	testsupport.Eventually(t, timeout, "every target "+want.String(), func() (bool, string) {
		var bad []string
		for _, p := range sc.targets(t) {
			if p.State != want {
				bad = append(bad, p.FullName()+" "+p.State.String())
			}
		}
		return len(bad) == 0, strings.Join(bad, "\n")
	})
}

// breakRisk makes risk_manager fail for good: it exits (unexpectedly) and
// its restarts fail, so supervisord marks it FATAL.
func (sc *scenario) breakRisk(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(sc.Path("risk.broken"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// fixRisk lets risk_manager start again and starts it.
func (sc *scenario) fixRisk(t *testing.T) {
	t.Helper()
	if err := os.Remove(sc.Path("risk.broken")); err != nil {
		t.Fatal(err)
	}
	if err := sc.Client.StartProcess(ctxT(t), riskName, true); err != nil {
		t.Fatal(err)
	}
}

// logLines returns haltguard's stderr log as JSON objects.
func (sc *scenario) logLines() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(sc.ReadListenerStderr("haltguard"), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// audits returns haltguard's audit lines with the given action.
func (sc *scenario) audits(action string) []map[string]any {
	var out []map[string]any
	for _, m := range sc.logLines() {
		if m["message"] == "audit" && m["action"] == action {
			out = append(out, m)
		}
	}
	return out
}

// waitAudit waits for an audit line with action for which match (nil: any)
// holds, and returns it.
func (sc *scenario) waitAudit(t *testing.T, action string, match func(map[string]any) bool, timeout time.Duration) map[string]any {
	t.Helper()
	var found map[string]any
	testsupport.Eventually(t, timeout, "audit line "+action, func() (bool, string) {
		for _, m := range sc.audits(action) {
			if match == nil || match(m) {
				found = m
				return true, ""
			}
		}
		return false, tail(sc.ReadListenerStderr("haltguard"), 4000)
	})
	return found
}

func (sc *scenario) waitLog(t *testing.T, pattern string, timeout time.Duration) {
	t.Helper()
	sc.WaitListenerLog(t, "haltguard", pattern, timeout)
}

// latch reads the halt latch from the state store.
func (sc *scenario) latch(t *testing.T) state.Halt {
	t.Helper()
	st, err := state.Open(ctxT(t), sc.statePth)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := st.Halt(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// waitTicks waits until haltguard has handled n more TICK events (its
// heartbeat in the state store moved on n times). Each TICK starts a check
// in the background, so at least n-1 checks ran to the end meanwhile.
func (sc *scenario) waitTicks(t *testing.T, n int) {
	t.Helper()
	beat := func() time.Time {
		st, err := state.Open(ctxT(t), sc.statePth)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		hb, _, err := st.Heartbeat(ctxT(t), "haltguard")
		if err != nil {
			t.Fatal(err)
		}
		return hb.Tick
	}
	last, seen := beat(), 0
	testsupport.Eventually(t, time.Duration(n+2)*8*time.Second, fmt.Sprintf("%d TICK checks", n), func() (bool, string) {
		if b := beat(); b.After(last) {
			last, seen = b, seen+1
		}
		return seen >= n, fmt.Sprintf("%d ticks, last %v", seen, last)
	})
}

// waitPage waits until the fake PagerDuty got a trigger for key (a key
// ending in "/": any key it starts) whose summary contains want, and
// returns it.
func (sc *scenario) waitPage(t *testing.T, key, want string) alerttest.PagerDutyEvent {
	t.Helper()
	var ev alerttest.PagerDutyEvent
	testsupport.Eventually(t, waitHalt, fmt.Sprintf("a page for %s with %q", key, want), func() (bool, string) {
		var seen []string
		for _, e := range sc.pd.Events() {
			if (e.DedupKey == key || strings.HasSuffix(key, "/") && strings.HasPrefix(e.DedupKey, key)) && e.Action == "trigger" && e.Payload != nil && strings.Contains(e.Payload.Summary, want) {
				ev = e
				return true, ""
			}
			if e.Payload != nil {
				seen = append(seen, e.Action+" "+e.DedupKey+": "+e.Payload.Summary)
			} else {
				seen = append(seen, e.Action+" "+e.DedupKey)
			}
		}
		return false, strings.Join(seen, "\n")
	})
	return ev
}

// detail returns a field of a page's custom_details, or of the alert
// details nested in it, as a string.
func detail(ev alerttest.PagerDutyEvent, name string) string {
	cd := ev.Payload.Details()
	if v, ok := cd[name]; ok {
		return fmt.Sprint(v)
	}
	if d, ok := cd["details"].(map[string]any); ok {
		if v, ok := d[name]; ok {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// cli runs a haltguard subcommand as an operator would, from a shell with
// the config in $SUPERGUARD_CONFIG.
func (sc *scenario) cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness.Bin(t, "./listeners/haltguard"), args...)
	cmd.Env = testsupport.CleanEnv("SUPERGUARD_CONFIG="+sc.config, pdKeyEnv+"="+pdKey)
	code, stdout, stderr = testsupport.Run(t, cmd)
	return stdout, stderr, code
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
