package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

// Canary secrets: none of them may ever show up in output.
const (
	canaryPD    = "pdkeyCANARY0123456789abcdef01234"
	canaryHook  = "https://hooks.slack.example/services/T0CANARY/B0CANARY/hookCANARYsecret"
	canaryToken = "xoxb-CANARY-token-1234"
	canaryAM    = "amCANARYpassword"
	canarySV    = "svCANARYpassword"
)

func canaries() []string {
	return []string{canaryPD, canaryHook, "T0CANARY/B0CANARY/hookCANARYsecret", canaryToken, canaryAM, canarySV}
}

// secretFile writes a 0600 file holding v and returns its path.
func secretFile(t *testing.T, v string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func fullConfig(t *testing.T) string {
	t.Helper()
	t.Setenv("PD_KEY", canaryPD)
	t.Setenv("SLACK_BOT", canaryToken)
	t.Setenv("SV_PASS", canarySV)
	return fmt.Sprintf(`
host: trade-01
state_path: /tmp/state.db
supervisor:
  url: unix:///run/supervisor.sock
  username: superguard
  password_env: SV_PASS
sinks:
  - {name: oncall, type: pagerduty, routing_key_env: PD_KEY}
  - {name: hook, type: slack, webhook_url_file: %s}
  - {name: bot, type: slack, token_env: SLACK_BOT, channel: "#ops", rate: 0.5, timeout: 3s}
  - name: am
    type: alertmanager
    urls: [http://am-1:9093, http://am-2:9093]
    username: sg
    password_file: %s
  - {name: log, type: log}
routes:
  - match: {condition: [halt, budget]}
    sinks: [oncall, bot]
  - match: {severity: critical, process: "strategies:*"}
    sinks: [oncall]
    continue: true
  - match: {severity: [critical, error, warning]}
    sinks: [bot]
  - sinks: [log]
dedup:
  window: 2m
  reminder: 30m
  flap: {changes: 4, window: 10m}
quiet_hours:
  timezone: America/New_York
  windows:
    - {days: mon-fri, start: "17:00", end: "08:00"}
    - {days: [sat, sun], start: "00:00", end: "24:00"}
maintenance:
  - {name: upgrade, from: 2026-07-04T20:00:00Z, until: 2026-07-04T23:00:00Z, groups: [gateways]}
  - {name: nightly, timezone: America/New_York, days: mon-fri, start: "02:00", end: "02:30", programs: ["md_*"]}
listeners:
  crashpager:
    runbook: https://wiki/crash
    max: 3
`, secretFile(t, canaryHook), secretFile(t, canaryAM))
}

func TestParseFull(t *testing.T) {
	c, err := Parse([]byte(fullConfig(t)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"host", c.Host, "trade-01"},
		{"sinks", len(c.Sinks), 5},
		{"pd key", c.Sinks[0].RoutingKey.Value(), canaryPD},
		{"webhook from file, trimmed", c.Sinks[1].WebhookURL.Value(), canaryHook},
		{"token", c.Sinks[2].Token.Value(), canaryToken},
		{"am password", c.Sinks[3].Password.Value(), canaryAM},
		{"supervisor password", c.Supervisor.Password.Value(), canarySV},
		{"bot rate", c.Sinks[2].RateLimit(), 0.5},
		{"default pd rate", c.Sinks[0].RateLimit(), 2.0},
		{"default slack rate", c.Sinks[1].RateLimit(), 1.0},
		{"default am rate", c.Sinks[3].RateLimit(), 10.0},
		{"log rate", c.Sinks[4].RateLimit(), 0.0},
		{"bot timeout", c.Sinks[2].AttemptTimeout(), 3 * time.Second},
		{"default timeout", c.Sinks[0].AttemptTimeout(), DefaultSinkTimeout},
		{"window", c.Dedup.Window.Std(), 2 * time.Minute},
		{"reminder", c.Dedup.Reminder.Std(), 30 * time.Minute},
		{"flap", c.Dedup.Flap, Flap{Changes: 4, Window: Duration(10 * time.Minute)}},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	host, _ := os.Hostname()
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != host {
		t.Errorf("host = %q, want %q", c.Host, host)
	}
	if len(c.Sinks) != 1 || c.Sinks[0].Name != "log" || c.Sinks[0].Type != SinkLog {
		t.Errorf("sinks = %+v, want the implicit log sink", c.Sinks)
	}
	want := Dedup{Window: Duration(5 * time.Minute), Reminder: Duration(time.Hour), Flap: Flap{Changes: 6, Window: Duration(15 * time.Minute)}}
	if c.Dedup != want {
		t.Errorf("dedup = %+v, want %+v", c.Dedup, want)
	}
	// A partial dedup section keeps the other defaults; reminder 0 turns it off.
	c, err = Parse([]byte("dedup: {reminder: 0, flap: {window: 30m}}"))
	if err != nil {
		t.Fatal(err)
	}
	want = Dedup{Window: Duration(5 * time.Minute), Flap: Flap{Changes: 6, Window: Duration(30 * time.Minute)}}
	if c.Dedup != want {
		t.Errorf("partial dedup = %+v, want %+v", c.Dedup, want)
	}
}

func TestParseErrors(t *testing.T) {
	t.Setenv("EMPTY", " ")
	t.Setenv("SET", "value-of-SET")
	t.Setenv("HOOK", "https://hooks.example/x")
	readable := filepath.Join(t.TempDir(), "open")
	if err := os.WriteFile(readable, []byte(canaryToken), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml string
		want       []string // every line of the error, in order
	}{
		{"unset env", `sinks: [{name: a, type: log}, {name: pd, type: pagerduty, routing_key_env: PD_KEY_UNSET}]`,
			[]string{"sinks[1].routing_key_env: variable PD_KEY_UNSET is not set"}},
		{"empty env", `sinks: [{name: pd, type: pagerduty, routing_key_env: EMPTY}]`,
			[]string{"sinks[0].routing_key_env: variable EMPTY is empty"}},
		{"env and file", `sinks: [{name: pd, type: pagerduty, routing_key_env: SET, routing_key_file: /x}]`,
			[]string{"sinks[0].routing_key_env: set only one of routing_key_env and routing_key_file"}},
		{"missing file", `sinks: [{name: pd, type: pagerduty, routing_key_file: /nonexistent/key}]`,
			[]string{"sinks[0].routing_key_file: stat /nonexistent/key: no such file or directory"}},
		{"world-readable file", `sinks: [{name: s, type: slack, token_file: ` + readable + `, channel: x}]`,
			[]string{"sinks[0].token_file: " + readable + " is readable by everyone (mode 0644): chmod o-r it"}},
		{"pd without key", `sinks: [{name: pd, type: pagerduty}]`,
			[]string{"sinks[0]: routing_key_env or routing_key_file is required"}},
		{"inline routing key", `sinks: [{name: pd, type: pagerduty, routing_key: ` + canaryPD + `}]`,
			[]string{"sinks[0].routing_key: secrets must not be written in the config file; use routing_key_env or routing_key_file"}},
		{"inline webhook and token", "sinks:\n  - {name: a, type: log}\n  - {name: s, type: slack, webhook_url: \"" + canaryHook + "\", token: " + canaryToken + "}",
			[]string{
				"sinks[1].webhook_url: secrets must not be written in the config file; use webhook_url_env or webhook_url_file",
				"sinks[1].token: secrets must not be written in the config file; use token_env or token_file",
			}},
		{"inline supervisor password", `supervisor: {url: "http://127.0.0.1:9001", password: ` + canarySV + `}`,
			[]string{"supervisor.password: secrets must not be written in the config file; use password_env or password_file"}},
		{"unknown field", "sinks: [{name: a, type: log, colour: red}]",
			[]string{"yaml: unmarshal errors:", "  line 1: field colour not found in type config.Sink"}},
		{"unknown top-level field", "hosts: x", []string{"yaml: unmarshal errors:", "  line 1: field hosts not found in type config.Config"}},
		{"bad type", `sinks: [{name: a, type: email}]`, []string{`sinks[0].type: "email": want slack, pagerduty, alertmanager or log`}},
		{"duplicate sink", `sinks: [{name: a, type: log}, {name: a, type: log}]`, []string{`sinks[1].name: duplicate sink name "a"`}},
		{"bad sink name", `sinks: [{name: "a b", type: log}]`, []string{`sinks[0].name: "a b": want letters, digits, '.', '_' or '-'`}},
		{"misplaced field", `sinks: [{name: pd, type: pagerduty, routing_key_env: SET, channel: "#x"}]`,
			[]string{"sinks[0].channel: not used by a pagerduty sink"}},
		{"slack both", `sinks: [{name: s, type: slack, webhook_url_env: HOOK, token_env: SET, channel: x}]`,
			[]string{"sinks[0]: set either webhook_url_env/_file or token_env/_file, not both"}},
		{"slack neither", `sinks: [{name: s, type: slack}]`,
			[]string{"sinks[0]: a slack sink needs webhook_url_env/_file, or token_env/_file with channel"}},
		{"slack bot without channel", `sinks: [{name: s, type: slack, token_env: SET}]`,
			[]string{"sinks[0].channel: required with a bot token"}},
		{"slack webhook not a URL", `sinks: [{name: s, type: slack, webhook_url_env: SET}]`,
			[]string{"sinks[0].webhook_url: the resolved value is not an http(s) URL"}},
		{"am credentials in URL", `sinks: [{name: am, type: alertmanager, urls: ["http://u:` + canaryAM + `@am:9093"]}]`,
			[]string{"sinks[0].urls[0]: credentials must not be written in the URL; use username with password_env or password_file"}},
		{"am without urls", `sinks: [{name: am, type: alertmanager}]`, []string{"sinks[0].urls: at least one Alertmanager URL is required"}},
		{"negative rate", `sinks: [{name: a, type: log, rate: -1}]`, []string{"sinks[0].rate: must not be negative (0 means no limit)"}},
		{"route to unknown sink", `{sinks: [{name: a, type: log}], routes: [{sinks: [a, b]}]}`, []string{`routes[0].sinks[1]: no sink named "b"`}},
		{"route without sinks", `routes: [{match: {severity: info}}]`, []string{"routes[0].sinks: at least one sink is required"}},
		{"bad glob", `routes: [{match: {program: "[a"}, sinks: [log]}]`, []string{`routes[0].match.program[0]: bad glob pattern "[a"`}},
		{"unknown condition", `routes: [{match: {condition: crashed}, sinks: [log]}]`,
			[]string{`routes[0].match.condition[0]: unknown condition "crashed" (known: [exited spree fatal halt health stale heartbeat memory cpu budget listener])`}},
		{"bad severity", `routes: [{match: {severity: urgent}, sinks: [log]}]`,
			[]string{`line 1: severity "urgent": want info, warning, error or critical`}},
		{"bare number duration", "dedup: {window: 300}", []string{`line 1: duration "300": want a number with a unit, such as 90s, 5m or 1h`}},
		{"reminder shorter than window", "dedup: {window: 10m, reminder: 5m}", []string{"dedup.reminder: 5m0s: must be 0 (off) or at least dedup.window"}},
		{"flap changes 1", "dedup: {flap: {changes: 1}}", []string{"dedup.flap.changes: 1: must be 0 (off) or at least 2"}},
		{"bad time zone", `quiet_hours: {timezone: Mars/Olympus, windows: [{start: "18:00", end: "08:00"}]}`,
			[]string{`quiet_hours.timezone: unknown time zone "Mars/Olympus"`}},
		{"empty quiet window", `quiet_hours: {windows: [{start: "08:00", end: "08:00"}]}`,
			[]string{"quiet_hours.windows[0]: start and end are both 08:00: the window is empty"}},
		{"bad time of day", `quiet_hours: {windows: [{start: "8am", end: "08:00"}]}`,
			[]string{`line 1: time of day "8am": want HH:MM between 00:00 and 24:00`}},
		{"bad day", `quiet_hours: {windows: [{days: funday, start: "01:00", end: "08:00"}]}`,
			[]string{`line 1: day "funday": want mon, tue, wed, thu, fri, sat or sun`}},
		{"maintenance both forms", `maintenance: [{from: 2026-01-01T00:00:00Z, until: 2026-01-02T00:00:00Z, start: "01:00", end: "02:00"}]`,
			[]string{"maintenance[0]: set either from/until or days/start/end, not both"}},
		{"maintenance until before from", `maintenance: [{from: 2026-01-02T00:00:00Z, until: 2026-01-01T00:00:00Z}]`,
			[]string{"maintenance[0].until: must be after from"}},
		{"maintenance only from", `maintenance: [{from: 2026-01-02T00:00:00Z}]`,
			[]string{"maintenance[0]: a one-off window needs both from and until"}},
		{"maintenance empty", `maintenance: [{programs: [x]}]`,
			[]string{"maintenance[0]: set from/until (one-off) or days/start/end (recurring)"}},
		{"host with slash", `host: a/b`, []string{`host: "a/b" must not contain '/' or spaces (it is part of every alert key)`}},
		{"supervisor url", `supervisor: {url: "ftp://x"}`, []string{"supervisor.url: want an absolute http or https URL"}},
		{"several problems", `{sinks: [{name: pd, type: pagerduty}], dedup: {window: 0}}`, []string{
			"sinks[0]: routing_key_env or routing_key_file is required",
			"dedup.window: 0s: must be at least 1s",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tc.want)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			for _, c := range canaries() {
				if strings.Contains(err.Error(), c) {
					t.Errorf("error reveals a secret: %v", err)
				}
			}
		})
	}
}

func TestLoadNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sg.yaml")
	if err := os.WriteFile(p, []byte("sinks: [{name: pd, type: pagerduty, routing_key_env: PD_KEY_UNSET}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	want := "config " + p + ": sinks[0].routing_key_env: variable PD_KEY_UNSET is not set"
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %q", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Load of a missing file = %v", err)
	}
	if err := Check(p); err == nil || err.Error() != want {
		t.Errorf("Check = %v, want %q", err, want)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	c, err := Parse([]byte(fullConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String": c.String(),
		"%v":     fmt.Sprintf("%v", c.Sinks),
		"%+v":    fmt.Sprintf("%+v", c.Sinks),
		"%#v":    fmt.Sprintf("%#v", c.Sinks),
		"JSON":   string(js),
		"Redact": c.Redact("POST " + canaryHook + " failed; path /services/T0CANARY/B0CANARY/hookCANARYsecret; key " +
			canaryPD + " token " + canaryToken + " pw " + canaryAM + " sv " + canarySV),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, c := range canaries() {
				if strings.Contains(out, c) {
					t.Errorf("%s reveals %q:\n%s", name, c, out)
				}
			}
		})
	}
	if !strings.Contains(outputs["String"], "routing_key_env: PD_KEY") {
		t.Errorf("String does not say where the secret comes from:\n%s", outputs["String"])
	}
	if !strings.Contains(outputs["JSON"], `"RoutingKey":"[REDACTED]"`) {
		t.Errorf("JSON does not mark the secret redacted: %s", outputs["JSON"])
	}
}

func TestListener(t *testing.T) {
	c, err := Parse([]byte(fullConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	type crashpager struct {
		Runbook string   `yaml:"runbook"`
		Max     int      `yaml:"max"`
		Window  Duration `yaml:"window"`
	}
	got := crashpager{Window: Duration(time.Minute)}
	if err := c.Listener("crashpager", &got); err != nil {
		t.Fatalf("Listener: %v", err)
	}
	want := crashpager{Runbook: "https://wiki/crash", Max: 3, Window: Duration(time.Minute)}
	if got != want {
		t.Errorf("Listener = %+v, want %+v", got, want)
	}
	other := crashpager{Max: 9}
	if err := c.Listener("haltguard", &other); err != nil || other.Max != 9 {
		t.Errorf("missing section: %+v, %v; want defaults kept", other, err)
	}
	var strict struct {
		Runbook string `yaml:"runbook"`
	}
	err = c.Listener("crashpager", &strict)
	if err == nil || !strings.HasPrefix(err.Error(), "listeners.crashpager: ") || !strings.Contains(err.Error(), "field max not found") {
		t.Errorf("strict Listener = %v", err)
	}
}

func TestPath(t *testing.T) {
	t.Setenv(EnvPath, "")
	if got := Path("/f.yaml"); got != "/f.yaml" {
		t.Errorf("Path(flag) = %q", got)
	}
	t.Setenv(EnvPath, "/e.yaml")
	if got := Path(""); got != "/e.yaml" {
		t.Errorf("Path from env = %q", got)
	}
	if got := Path("/f.yaml"); got != "/f.yaml" {
		t.Errorf("flag does not win over env: %q", got)
	}
}

func TestRoute(t *testing.T) {
	c, err := Parse([]byte(fullConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PD_KEY", canaryPD)
	t.Setenv("SLACK_HOOK", canaryHook)
	defaults, err := Parse([]byte(`sinks:
  - {name: pd, type: pagerduty, routing_key_env: PD_KEY}
  - {name: s1, type: slack, webhook_url_env: SLACK_HOOK}
  - {name: s2, type: slack, webhook_url_env: SLACK_HOOK}
  - {name: am, type: alertmanager, urls: ["http://am:9093"]}
  - {name: log, type: log}`))
	if err != nil {
		t.Fatal(err)
	}
	onlyPD, err := Parse([]byte(`sinks: [{name: pd, type: pagerduty, routing_key_env: PD_KEY}]`))
	if err != nil {
		t.Fatal(err)
	}
	noSinks, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := func(sev alert.Severity, cond alert.Condition, group, program string) *alert.Alert {
		return &alert.Alert{Severity: sev, Condition: cond, Group: group, Program: program, Listener: "crashpager"}
	}
	tests := []struct {
		name  string
		cfg   *Config
		alert *alert.Alert
		want  []string
	}{
		{"halt first match", c, a(alert.Warning, alert.CondHalt, "", ""), []string{"oncall", "bot"}},
		{"critical strategy continues", c, a(alert.Critical, alert.CondFatal, "strategies", "mm"), []string{"oncall", "bot"}},
		{"critical elsewhere", c, a(alert.Critical, alert.CondFatal, "feeds", "md"), []string{"bot"}},
		{"ungrouped program is its own group", c, a(alert.Critical, alert.CondFatal, "", "strategies"), []string{"oncall", "bot"}},
		{"info falls through", c, a(alert.Info, alert.CondExited, "g", "p"), []string{"log"}},
		{"default critical", defaults, a(alert.Critical, alert.CondFatal, "g", "p"), []string{"pd", "s1", "s2", "am"}},
		{"default error", defaults, a(alert.Error, alert.CondExited, "g", "p"), []string{"s1", "s2", "am"}},
		{"default warning", defaults, a(alert.Warning, alert.CondMemory, "g", "p"), []string{"s1", "s2", "am"}},
		{"default info", defaults, a(alert.Info, alert.CondExited, "g", "p"), []string{"log", "am"}},
		{"only pagerduty, critical", onlyPD, a(alert.Critical, alert.CondFatal, "g", "p"), []string{"pd"}},
		{"only pagerduty, warning goes nowhere", onlyPD, a(alert.Warning, alert.CondFatal, "g", "p"), nil},
		{"no sinks configured", noSinks, a(alert.Critical, alert.CondFatal, "g", "p"), []string{"log"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cfg.Route(tc.alert)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("Route = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQuietHoursInNamedZone(t *testing.T) {
	c, err := Parse([]byte(`quiet_hours:
  timezone: America/New_York
  windows:
    - {days: mon-fri, start: "17:00", end: "08:00"}
    - {days: [sat, sun], start: "00:00", end: "24:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"monday trading hours", time.Date(2026, 3, 2, 10, 0, 0, 0, ny), false},
		{"monday evening", time.Date(2026, 3, 2, 17, 0, 0, 0, ny), true},
		{"tuesday before open, wrapped from monday", time.Date(2026, 3, 3, 7, 59, 0, 0, ny), true},
		{"tuesday open", time.Date(2026, 3, 3, 8, 0, 0, 0, ny), false},
		{"saturday noon", time.Date(2026, 3, 7, 12, 0, 0, 0, ny), true},
		{"monday 07:00 wraps from sunday's full day? no: sunday ends 24:00", time.Date(2026, 3, 9, 7, 0, 0, 0, ny), false},
		// 13:30 UTC is 08:30 in New York in winter (EST) but 09:30 in summer (EDT).
		{"13:30 UTC in January is 08:30 EST", time.Date(2026, 1, 6, 12, 30, 0, 0, time.UTC), true},
		{"12:30 UTC in July is 08:30 EDT", time.Date(2026, 7, 7, 12, 30, 0, 0, time.UTC), false},
		{"12:30 UTC in January is 07:30 EST", time.Date(2026, 1, 6, 12, 30, 0, 0, time.UTC).Add(-time.Hour), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Quiet(tc.at); got != tc.want {
				t.Errorf("Quiet(%v) = %v, want %v", tc.at.In(ny), got, tc.want)
			}
		})
	}
	var none *Config
	if none, err = Parse(nil); err != nil || none.Quiet(time.Now()) {
		t.Errorf("no quiet_hours: Quiet = true, %v", err)
	}
}

func TestMaintenance(t *testing.T) {
	c, err := Parse([]byte(`maintenance:
  - {name: upgrade, from: 2026-07-04T20:00:00Z, until: 2026-07-04T23:00:00Z, groups: [gateways]}
  - {name: nightly, timezone: Europe/London, days: fri, start: "23:30", end: "00:30", programs: ["md_*"], processes: ["risk:*"]}
  - {name: all, from: 2026-08-01T00:00:00Z, until: 2026-08-01T01:00:00Z}`))
	if err != nil {
		t.Fatal(err)
	}
	london, _ := time.LoadLocation("Europe/London")
	gw := &alert.Alert{Group: "gateways", Program: "fix"}
	md := &alert.Alert{Group: "feeds", Program: "md_cme"}
	risk := &alert.Alert{Group: "risk", Program: "limits"}
	other := &alert.Alert{Group: "strategies", Program: "mm"}
	tests := []struct {
		name  string
		a     *alert.Alert
		at    time.Time
		want  string
		inMnt bool
	}{
		{"one-off, group matches", gw, time.Date(2026, 7, 4, 21, 0, 0, 0, time.UTC), "upgrade", true},
		{"one-off, other group", other, time.Date(2026, 7, 4, 21, 0, 0, 0, time.UTC), "", false},
		{"one-off, end is exclusive", gw, time.Date(2026, 7, 4, 23, 0, 0, 0, time.UTC), "", false},
		{"recurring friday night", md, time.Date(2026, 7, 3, 23, 45, 0, 0, london), "nightly", true},
		{"recurring wraps into saturday", risk, time.Date(2026, 7, 4, 0, 15, 0, 0, london), "nightly", true},
		{"recurring, saturday night is not friday", md, time.Date(2026, 7, 4, 23, 45, 0, 0, london), "", false},
		{"recurring, unmatched program", other, time.Date(2026, 7, 3, 23, 45, 0, 0, london), "", false},
		{"host-wide window", other, time.Date(2026, 8, 1, 0, 30, 0, 0, time.UTC), "all", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := c.InMaintenance(tc.a, tc.at)
			if ok != tc.inMnt || (ok && m.Name != tc.want) {
				t.Errorf("InMaintenance = %v %v, want %q %v", m, ok, tc.want, tc.inMnt)
			}
		})
	}
}

func TestWeekdays(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"days: mon-fri", "[Monday Tuesday Wednesday Thursday Friday]"},
		{"days: fri-mon", "[Friday Saturday Sunday Monday]"},
		{"days: [Sunday, wed]", "[Sunday Wednesday]"},
	}
	for _, tc := range tests {
		t.Run(tc.yaml, func(t *testing.T) {
			c, err := Parse([]byte("quiet_hours: {windows: [{" + tc.yaml + `, start: "01:00", end: "02:00"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint([]time.Weekday(c.QuietHours.Windows[0].Days)); got != tc.want {
				t.Errorf("days = %s, want %s", got, tc.want)
			}
		})
	}
}
