package opscli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/pipeline"
	"github.com/superguard/superguard/pkg/alert/pipeline/pipelinetest"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/state"
)

// fixture is a config file and a store holding two open incidents (one
// critical: rows for pd and slack; one error: a row for slack) and one
// resolved incident, with the pd row dead-lettered.
type fixture struct {
	cfgPath, statePath string
	deadID             int64
	rows               []*state.Delivery
}

// The sinks' secrets come from variables an operator's shell does not have.
const fixtureConfig = `
host: h1
state_path: %s
supervisor: {url: "http://127.0.0.1:9001", username: sg, password_env: OPSCLI_TEST_UNSET_SV}
sinks:
  - {name: pd, type: pagerduty, routing_key_env: OPSCLI_TEST_UNSET_PD}
  - {name: slack, type: slack, webhook_url_env: OPSCLI_TEST_UNSET_HOOK}
  - {name: log, type: log}
`

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{cfgPath: filepath.Join(dir, "sg.yaml"), statePath: filepath.Join(dir, "state.db")}
	body := strings.Replace(fixtureConfig, "%s", f.statePath, 1)
	if err := os.WriteFile(f.cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// The listener side has the secrets.
	t.Setenv("OPSCLI_TEST_UNSET_PD", "0123456789abcdef0123456789abcdef")
	t.Setenv("OPSCLI_TEST_UNSET_HOOK", "https://hooks.example/services/x")
	t.Setenv("OPSCLI_TEST_UNSET_SV", "pw")
	cfg, err := config.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(context.Background(), f.statePath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ns := map[string]alert.Notifier{}
	for _, s := range cfg.Sinks {
		ns[s.Name] = pipelinetest.NewNotifier(s.Name)
	}
	p, err := pipeline.New(pipeline.Options{Store: store, Config: cfg, Notifiers: ns, Listener: "crashpager", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	submit := func(a alert.Alert) {
		t.Helper()
		if err := p.Submit(context.Background(), &a); err != nil {
			t.Fatal(err)
		}
	}
	crit := alert.Alert{Kind: alert.Trigger, Group: "risk", Program: "limits", Condition: alert.CondFatal,
		Severity: alert.Critical, Summary: "limits entered FATAL", Action: "halted trading"}
	submit(crit)
	submit(alert.Alert{Kind: alert.Trigger, Group: "strategies", Program: "mm", Condition: alert.CondExited,
		Severity: alert.Error, Summary: "mm exited"})
	gone := alert.Alert{Kind: alert.Trigger, Group: "feeds", Program: "md", Condition: alert.CondStale,
		Severity: alert.Info, Summary: "md stale"}
	submit(gone)
	gone.Kind, gone.Summary = alert.Resolve, "md fresh"
	submit(gone)

	f.rows, err = store.ListDeliveries(context.Background(), state.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	f.deadID = f.rows[0].ID // pd trigger of the critical incident
	now := time.Now()
	err = store.Update(context.Background(), func(tx *state.Tx) error {
		if _, err := tx.AcquireLease("pd", "test", 0, now, now.Add(time.Minute)); err != nil {
			return err
		}
		if _, err := tx.Claim("pd", f.deadID, "test", now, now.Add(time.Minute)); err != nil {
			return err
		}
		return tx.MarkDead(f.deadID, "permanent: pagerduty: 400 invalid event", now)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPSCLI_TEST_UNSET_PD", "")
	os.Unsetenv("OPSCLI_TEST_UNSET_PD")
	os.Unsetenv("OPSCLI_TEST_UNSET_HOOK")
	os.Unsetenv("OPSCLI_TEST_UNSET_SV")
	t.Setenv(state.EnvPath, "")
	return f
}

// run runs an opscli command with the fixture's config.
func (f *fixture) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{args[0], "-config", f.cfgPath}, args[1:]...)
	code = Run(context.Background(), full, &out, &errb)
	return code, out.String(), errb.String()
}

func (f *fixture) status(t *testing.T, id int64) state.Status {
	t.Helper()
	s, err := state.Open(context.Background(), f.statePath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var d *state.Delivery
	err = s.View(context.Background(), func(tx *state.Tx) error {
		var err error
		d, err = tx.Delivery(id)
		return err
	})
	if err != nil || d == nil {
		t.Fatalf("delivery %d: %v %v", id, d, err)
	}
	return d.Status
}

// columns checks that every line of a table starts its columns where the
// header does, and returns the lines below the header.
func columns(t *testing.T, out string, header ...string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for _, h := range header {
		if !strings.Contains(lines[0], h) {
			t.Fatalf("header %q lacks %q", lines[0], h)
		}
	}
	at := strings.Index(lines[0], header[1])
	for _, l := range lines[1:] {
		if at > len(l) || l[at-1] != ' ' || l[at] == ' ' {
			t.Errorf("column %q not aligned in %q", header[1], l)
		}
	}
	return lines[1:]
}

func TestIncidents(t *testing.T) {
	f := newFixture(t)
	code, out, errOut := f.run(t, "incidents")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := columns(t, out, "ID", "KEY", "SEVERITY", "STATUS", "COUNT", "SUMMARY")
	if len(lines) != 2 || !strings.Contains(lines[0], "h1/risk:limits/fatal") || !strings.Contains(lines[0], "critical") ||
		!strings.Contains(lines[1], "h1/strategies:mm/exited") {
		t.Errorf("incidents:\n%s", out)
	}
	code, out, _ = f.run(t, "incidents", "-all", "-json")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var incs []Incident
	if err := json.Unmarshal([]byte(out), &incs); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if len(incs) != 3 {
		t.Fatalf("incidents -all = %d, want 3", len(incs))
	}
	byKey := map[string]Incident{}
	for _, i := range incs {
		byKey[i.Key] = i
	}
	if i := byKey["h1/feeds:md/stale"]; i.Status != "resolved" || i.ResolvedAt == nil {
		t.Errorf("resolved incident = %+v", i)
	}
	if i := byKey["h1/risk:limits/fatal"]; i.Action != "halted trading" || i.Listeners["crashpager"] != 1 || i.Count != 1 {
		t.Errorf("critical incident = %+v", i)
	}
}

func TestOutbox(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		args []string
		want []string // "sink status purpose" of each row
	}{
		{[]string{"outbox"}, []string{"pd dead trigger", "slack pending trigger", "slack pending trigger"}},
		{[]string{"outbox", "--pending"}, []string{"slack pending trigger", "slack pending trigger"}},
		{[]string{"outbox", "--dead"}, []string{"pd dead trigger"}},
		{[]string{"outbox", "--all"}, []string{"pd dead trigger", "slack pending trigger", "slack pending trigger",
			"log cancelled trigger", "log cancelled resolve"}},
		{[]string{"outbox", "--all", "-sink", "log", "-limit", "1"}, []string{"log cancelled trigger"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := f.run(t, append(tc.args, "-json")...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var ds []Delivery
			if err := json.Unmarshal([]byte(out), &ds); err != nil {
				t.Fatalf("JSON: %v\n%s", err, out)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.Sink+" "+d.Status+" "+d.Purpose)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("rows = %q, want %q", got, tc.want)
			}
			code, out, _ = f.run(t, tc.args...)
			if code != ExitOK {
				t.Fatalf("text exit %d", code)
			}
			if lines := columns(t, out, "ID", "SINK", "STATUS", "PURPOSE", "LAST ERROR"); len(lines) != len(tc.want) {
				t.Errorf("text rows:\n%s", out)
			}
		})
	}
	_, out, _ := f.run(t, "outbox", "--dead")
	if !strings.Contains(out, "permanent: pagerduty: 400 invalid event") {
		t.Errorf("dead letter's error not shown:\n%s", out)
	}
}

func TestRetryAndDrop(t *testing.T) {
	f := newFixture(t)
	id := strconv.FormatInt(f.deadID, 10)
	code, out, errOut := f.run(t, "retry", id)
	if code != ExitOK || out != "requeued "+id+"\n" {
		t.Fatalf("retry: exit %d, %q %q", code, out, errOut)
	}
	if st := f.status(t, f.deadID); st != state.Pending {
		t.Errorf("after retry: %s", st)
	}
	code, _, errOut = f.run(t, "retry", id)
	if code != ExitError || !strings.Contains(errOut, "is pending, not dead") {
		t.Errorf("retry of a pending row: exit %d, %q", code, errOut)
	}
	code, out, _ = f.run(t, "drop", id, "-json") // flags after the id
	if code != ExitOK || strings.TrimSpace(out) != `{
  "dropped": [
    `+id+`
  ]
}` {
		t.Fatalf("drop: exit %d, %q", code, out)
	}
	if st := f.status(t, f.deadID); st != state.Cancelled {
		t.Errorf("after drop: %s", st)
	}
	code, out, _ = f.run(t, "retry", "--all-dead")
	if code != ExitOK || out != "nothing requeued\n" {
		t.Errorf("retry --all-dead with none dead: exit %d, %q", code, out)
	}
	code, _, errOut = f.run(t, "drop", "999")
	if code != ExitError || !strings.Contains(errOut, "delivery 999: not found") {
		t.Errorf("drop 999: exit %d, %q", code, errOut)
	}
	// Several ids, one bad: the ones that took effect are still reported.
	pending := strconv.FormatInt(f.rows[1].ID, 10)
	code, out, errOut = f.run(t, "drop", pending, "999")
	if code != ExitError || out != "dropped "+pending+"\n" || !strings.Contains(errOut, "delivery 999: not found") {
		t.Errorf("drop %s 999: exit %d, stdout %q, stderr %q", pending, code, out, errOut)
	}
}

func TestUsageAndErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		args    []string
		code    int
		stderr  string
		noStore bool
	}{
		{"no command", nil, ExitUsage, "usage:", false},
		{"unknown command", []string{"status"}, ExitUsage, "usage:", false},
		{"unknown flag", []string{"outbox", "-bogus"}, ExitUsage, "flag provided but not defined: -bogus", false},
		{"two filters", []string{"outbox", "--dead", "--pending"}, ExitUsage, "use at most one of", false},
		{"retry without ids", []string{"retry"}, ExitUsage, "give the ids of dead deliveries", false},
		{"retry ids and all", []string{"retry", "1", "--all-dead"}, ExitUsage, "not both", false},
		{"bad id", []string{"drop", "abc"}, ExitUsage, `"abc" is not a delivery id`, false},
		{"stray argument", []string{"incidents", "x"}, ExitUsage, `unexpected argument "x"`, false},
		{"missing store", []string{"incidents", "-state", "/nonexistent/state.db"}, ExitError, "$SUPERGUARD_STATE", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := tc.args
			if len(args) > 0 {
				args = append([]string{args[0], "-config", f.cfgPath}, args[1:]...)
			}
			code := Run(context.Background(), args, &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), tc.code, tc.stderr)
			}
		})
	}
	if _, err := os.Stat("/nonexistent/state.db"); err == nil {
		t.Error("a missing store was created")
	}
}

func TestStatePathFromEnv(t *testing.T) {
	f := newFixture(t)
	t.Setenv(state.EnvPath, f.statePath)
	var out, errb bytes.Buffer
	// No -config, and a config without state_path (never the host's
	// /etc/superguard): only the env names the store.
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.EnvPath, empty)
	if code := Run(context.Background(), []string{"outbox", "--dead"}, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "pd") {
		t.Errorf("outbox via $%s:\n%s", state.EnvPath, out.String())
	}
}

func TestIsCommand(t *testing.T) {
	for _, c := range []string{"incidents", "outbox", "retry", "drop"} {
		if !IsCommand(c) {
			t.Errorf("IsCommand(%q) = false", c)
		}
	}
	if IsCommand("-config") || IsCommand("run") {
		t.Error("IsCommand accepts a non-command")
	}
}
