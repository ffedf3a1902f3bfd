// Package crashpager_test runs the crashpager binary under a real
// supervisord 4.x (integration/harness) with fake Slack and PagerDuty
// services (pkg/alert/alerttest) in the test process, and, when it is
// installed, a real Alertmanager. Every scenario has its own supervisord,
// its own state database and its own fakes, and runs in parallel.
package crashpager_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// host is the host name every scenario's config sets.
const host = "itest"

// Canary secrets: tests look for them in every log and in the database.
const (
	canaryRoutingKey = "CANARYroutingKEY4f1d7e2a9b3c5d60" // 32 letters or digits, as PagerDuty wants
	canaryDeadMan    = "CANARY-dead-man-9b7e"
	canaryAMPassword = "CANARY-am-password-c3a0"
)

// scenario describes one crashpager run.
type scenario struct {
	// Crashpager is the YAML body of listeners.crashpager (indented by the
	// helper).
	Crashpager string
	// Window is dedup.window (default 8s).
	Window string
	// Sinks and Routes replace the default sinks (pd, slack, log) and routes
	// (critical -> pd+slack, error/warning -> slack, rest -> log) when set.
	Sinks, Routes string
	// Programs are the conf sections besides crashpager's.
	Programs string
	// Events overrides crashpager's events= (default PROCESS_STATE,TICK_5).
	Events string
	// Command wraps crashpager's command line (a text/template with
	// {{.Crashpager}} for the binary and its flags), e.g. to unset a variable
	// on restart.
	Command string
	// Env is added to supervisord's environment (crashpager inherits it).
	Env []string
	// Vars are extra template values ({{.Vars.key}}) for Programs, Sinks
	// and Crashpager.
	Vars map[string]string
	// Tolerate lists supervisord log problems the scenario may produce.
	Tolerate []harness.Problem
	// NoSlackWebhook leaves out the fake Slack webhook.
	NoSlackWebhook bool
	// StartTimeout bounds supervisord's start (harness default 30s).
	StartTimeout time.Duration
}

// env is a running scenario.
type env struct {
	s     *harness.Supervisord
	pd    *alerttest.PagerDuty
	slack *alerttest.SlackWebhook // nil with NoSlackWebhook
}

const defaultSinks = `  - {name: pd, type: pagerduty, routing_key_env: PD_KEY, events_url: "{{.Vars.pd}}", timeout: 3s}
  - {name: slack, type: slack, webhook_url_env: SLACK_URL, rate: 0, timeout: 3s}
  - {name: log, type: log}
`

const defaultRoutes = `  - match: {severity: critical}
    sinks: [pd, slack]
  - match: {severity: [error, warning]}
    sinks: [slack]
  - sinks: [log]
`

// start runs sc: fakes in this process, the config in the scenario
// directory, supervisord with crashpager, and waits for crashpager to run.
func start(t *testing.T, sc scenario) *env {
	t.Helper()
	e := &env{pd: alerttest.NewPagerDuty(t)}
	vars := map[string]string{"pd": e.pd.URL()}
	for k, v := range sc.Vars {
		vars[k] = v
	}
	envv := append([]string{
		"PD_KEY=" + canaryRoutingKey,
		"SUPERGUARD_LOG_LEVEL=debug",
	}, sc.Env...)
	if !sc.NoSlackWebhook {
		e.slack = alerttest.NewSlackWebhook(t)
		envv = append(envv, "SLACK_URL="+e.slack.URL())
	}
	if sc.Window == "" {
		sc.Window = "8s"
	}
	if sc.Sinks == "" {
		sc.Sinks = defaultSinks
	}
	if sc.Routes == "" {
		sc.Routes = defaultRoutes
	}
	if sc.Events == "" {
		sc.Events = "PROCESS_STATE,TICK_5"
	}
	yaml := "host: " + host + "\nstate_path: {{.Dir}}/state.db\nsinks:\n" + sc.Sinks + "routes:\n" + sc.Routes +
		"dedup: {window: " + sc.Window + ", reminder: 0s, flap: {changes: 0}}\n" +
		"listeners:\n  crashpager:\n" + indent(sc.Crashpager, "    ")
	cmd := `{{bin "./listeners/crashpager"}} -config {{.Dir}}/superguard.yaml`
	if sc.Command != "" {
		cmd = renderCommand(t, sc.Command, cmd)
	}
	conf := harness.Listener{Name: "crashpager", Command: cmd, Events: sc.Events}.Section() + "\n" + sc.Programs
	e.s = harness.Start(t, harness.Options{
		Sections:     conf,
		Files:        map[string]string{"superguard.yaml": yaml},
		Vars:         vars,
		Env:          envv,
		Tolerate:     sc.Tolerate,
		StartTimeout: sc.StartTimeout,
	})
	e.s.WaitListenerLog(t, "crashpager", `"message":"crashpager started"`, 30*time.Second)
	return e
}

func renderCommand(t *testing.T, wrapper, cmd string) string {
	t.Helper()
	var b strings.Builder
	tpl := template.Must(template.New("cmd").Delims("<<", ">>").Parse(wrapper))
	if err := tpl.Execute(&b, map[string]string{"Crashpager": cmd}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func indent(s, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(strings.TrimSpace(s)) {
		b.WriteString(prefix + line)
	}
	if s != "" {
		b.WriteString("\n")
	}
	return b.String()
}

// key returns the dedup key of an ungrouped program's condition.
func key(program string, c alert.Condition) string {
	return alert.Key(host, program+":"+program, c)
}

// openStore opens the scenario's state database from the test process (as
// an operator command would).
func (e *env) openStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), e.s.Path("state.db"))
	if err != nil {
		t.Fatalf("open state: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// deliveries returns the outbox rows of key, oldest first.
func deliveries(t *testing.T, st *state.Store, k string) []*state.Delivery {
	t.Helper()
	all, err := st.ListDeliveries(context.Background(), state.Filter{})
	if err != nil {
		t.Fatalf("list deliveries: %v", err)
	}
	var out []*state.Delivery
	for _, d := range all {
		if d.Notification.Key == k {
			out = append(out, d)
		}
	}
	return out
}

// info returns getProcessInfo(name).
func (e *env) info(t *testing.T, name string) supervisor.ProcessInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	i, err := e.s.Client.GetProcessInfo(ctx, name)
	if err != nil {
		t.Fatalf("getProcessInfo %s: %v", name, err)
	}
	return i
}

// startProcess starts name and waits for supervisord's answer.
func (e *env) startProcess(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.s.Client.StartProcess(ctx, name, false); err != nil {
		t.Fatalf("startProcess %s: %v", name, err)
	}
}

// waitPD waits until cond holds on the fake PagerDuty.
func (e *env) waitPD(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !e.pd.WaitUntil(timeout, cond) {
		t.Fatalf("timed out after %s waiting for PagerDuty: %s; events so far:\n%s", timeout, what, pdEvents(e.pd))
	}
}

// pdEvents renders the fake PagerDuty's events for failure messages.
func pdEvents(pd *alerttest.PagerDuty) string {
	var b strings.Builder
	for _, ev := range pd.Events() {
		fmt.Fprintf(&b, "  %s %s", ev.Action, ev.DedupKey)
		if ev.Payload != nil {
			fmt.Fprintf(&b, " %s %q count=%v", ev.Payload.Severity, ev.Payload.Summary, ev.Payload.Details()["count"])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// pdCount returns custom_details.count of a trigger event.
func pdCount(t *testing.T, ev alerttest.PagerDutyEvent) int {
	t.Helper()
	if ev.Payload == nil {
		t.Fatalf("trigger without payload: %+v", ev)
	}
	n, ok := ev.Payload.Details()["count"].(float64)
	if !ok {
		t.Fatalf("trigger %s: custom_details.count missing: %v", ev.DedupKey, ev.Payload.Details())
	}
	return int(n)
}

// logFiles returns every file in the scenario directory that is not the
// state database.
func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(filepath.Base(p), "state.db") || d.Type()&os.ModeSocket != 0 {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}
