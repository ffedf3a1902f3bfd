package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
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
		{"sink type", c.Sinks[3].Type, "alertmanager"},
		{"sink spec kept", len(c.Sinks[3].Spec.Content), 10},
		{"supervisor password", c.Supervisor.Password.Value(), canarySV},
		{"bot rate", c.Sinks[2].RateLimit(1), 0.5},
		{"default rate", c.Sinks[0].RateLimit(2), 2.0},
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
	if len(c.Sinks) != 1 || c.Sinks[0].Name != "log" || c.Sinks[0].Type != DefaultSink.Type {
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
	tests := []struct {
		name, yaml string
		want       []string // every line of the error, in order
	}{
		{"inline supervisor password", `supervisor: {url: "http://127.0.0.1:9001", password: ` + canarySV + `}`,
			[]string{"supervisor.password: secrets must not be written in the config file; use password_env or password_file"}},
		{"sink not a mapping", "sinks: [log]", []string{"line 1: want a sink with name and type"}},
		{"sink without type", "sinks: [{name: a}]", []string{"line 1: sinks[0].type: required"}},
		{"unknown top-level field", "hosts: x", []string{`line 1: unknown field "hosts"`}},
		{"duplicate sink", `sinks: [{name: a, type: log}, {name: a, type: log}]`, []string{`line 1: sinks[1].name: duplicate sink name "a"`}},
		{"bad sink name", `sinks: [{name: "a b", type: log}]`, []string{`line 1: sinks[0].name: "a b": want letters, digits, '.', '_' or '-'`}},
		{"negative rate", `sinks: [{name: a, type: log, rate: -1}]`, []string{"line 1: sinks[0].rate: must not be negative (0 means no limit)"}},
		{"route to unknown sink", `{sinks: [{name: a, type: log}], routes: [{sinks: [a, b]}]}`, []string{`line 1: routes[0].sinks[1]: no sink named "b"`}},
		{"route without sinks", `routes: [{match: {severity: info}}]`, []string{"line 1: routes[0].sinks: at least one sink is required"}},
		{"bad glob", `routes: [{match: {program: "[a"}, sinks: [log]}]`, []string{`line 1: routes[0].match.program[0]: bad glob pattern "[a"`}},
		{"bad process pattern", `routes: [{match: {processes: ["a:b:c"]}, sinks: [log]}]`,
			[]string{`line 1: routes[0].match.processes[0]: pattern "a:b:c": want name or group:name`}},
		{"bad maintenance pattern", `maintenance: [{from: 2026-01-01T00:00:00Z, until: 2026-01-02T00:00:00Z, processes: [" "]}]`,
			[]string{`line 1: maintenance[0].processes[0]: empty pattern`}},
		{"unknown condition", `routes: [{match: {condition: crashed}, sinks: [log]}]`,
			[]string{`line 1: routes[0].match.condition[0]: unknown condition "crashed" (known: [exited spree fatal halt health stale heartbeat memory cpu leak fds disk load budget listener test schedule calendar])`}},
		{"bad severity", `routes: [{match: {severity: urgent}, sinks: [log]}]`,
			[]string{`line 1: severity "urgent": want info, warning, error or critical`}},
		{"bare number duration", "dedup: {window: 300}", []string{`line 1: duration "300": want a number with a unit, such as 90s, 5m or 1h`}},
		{"reminder shorter than window", "dedup: {window: 10m, reminder: 5m}", []string{"line 1: dedup.reminder: 5m0s: must be 0 (off) or at least dedup.window"}},
		{"flap changes 1", "dedup: {flap: {changes: 1}}", []string{"line 1: dedup.flap.changes: 1: must be 0 (off) or at least 2"}},
		{"bad time zone", `quiet_hours: {timezone: Mars/Olympus, windows: [{start: "18:00", end: "08:00"}]}`,
			[]string{`line 1: quiet_hours.timezone: unknown time zone "Mars/Olympus"`}},
		{"empty quiet window", `quiet_hours: {windows: [{start: "08:00", end: "08:00"}]}`,
			[]string{"line 1: quiet_hours.windows[0]: start and end are both 08:00: the window is empty"}},
		{"bad time of day", `quiet_hours: {windows: [{start: "8am", end: "08:00"}]}`,
			[]string{`line 1: time of day "8am": want HH:MM between 00:00 and 24:00`}},
		{"bad day", `quiet_hours: {windows: [{days: funday, start: "01:00", end: "08:00"}]}`,
			[]string{`line 1: day "funday": want mon, tue, wed, thu, fri, sat or sun`}},
		{"maintenance both forms", `maintenance: [{from: 2026-01-01T00:00:00Z, until: 2026-01-02T00:00:00Z, start: "01:00", end: "02:00"}]`,
			[]string{"line 1: maintenance[0]: set either from/until or days/start/end, not both"}},
		{"maintenance until before from", `maintenance: [{from: 2026-01-02T00:00:00Z, until: 2026-01-01T00:00:00Z}]`,
			[]string{"line 1: maintenance[0].until: must be after from"}},
		{"maintenance only from", `maintenance: [{from: 2026-01-02T00:00:00Z}]`,
			[]string{"line 1: maintenance[0]: a one-off window needs both from and until"}},
		{"maintenance empty", `maintenance: [{programs: [x]}]`,
			[]string{"line 1: maintenance[0]: set from/until (one-off) or days/start/end (recurring)"}},
		{"host with slash", `host: a/b`, []string{`line 1: host: "a/b" must not contain '/' or spaces (it is part of every alert key)`}},
		{"supervisor url", `supervisor: {url: "ftp://x"}`, []string{"line 1: supervisor.url: want an absolute http or https URL"}},
		{"several problems", `{sinks: [{name: pd, type: pagerduty, rate: -1}], dedup: {window: 0}}`, []string{
			"line 1: sinks[0].rate: must not be negative (0 means no limit)",
			"line 1: dedup.window: 0s: must be at least 1s",
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
	if err := os.WriteFile(p, []byte("sinks: [{name: pd, type: pagerduty, routing_key_env: PD_KEY_UNSET, rate: -1}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	want := "config " + p + ": line 1: sinks[0].rate: must not be negative (0 means no limit)"
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %q", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Load of a missing file = %v", err)
	}
}

// TestLoadReadsNoSinkSecret: a sink's secret is read when the sink is
// built, never by Load, so a command that sends nothing needs none.
func TestLoadReadsNoSinkSecret(t *testing.T) {
	if _, err := Parse([]byte("sinks: [{name: pd, type: pagerduty, routing_key_env: PD_KEY_UNSET}]")); err != nil {
		t.Errorf("Parse = %v, want no error before the sink is built", err)
	}
}

func TestWarnings(t *testing.T) {
	c, err := Parse([]byte(`
routes:
  - {match: {program: [risk_*]}, sinks: [log]}
  - {match: {processes: ["*:risk_*"]}, sinks: [log]}
  - {match: {process: [a], processes: [b]}, sinks: [log]}
maintenance:
  - {name: m, from: 2026-07-04T20:00:00Z, until: 2026-07-04T23:00:00Z, programs: [md_*]}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`routes[0].match.program: [risk_*] is deprecated: write processes: ["*:risk_*"]`,
		`routes[2].match.process: [a] is deprecated: write the selection as processes patterns (name, group:name, group:*)`,
		`maintenance[0].programs: [md_*] is deprecated: write processes: ["*:md_*"]`,
	}
	if got := strings.Join(c.Warnings, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("Warnings:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	c, err := Parse([]byte(fullConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	// Resolve the sinks' secrets as building them does.
	var files struct {
		WebhookURLFile string   `yaml:"webhook_url_file"`
		PasswordFile   string   `yaml:"password_file"`
		URLs           []string `yaml:"urls"`
		Username       string   `yaml:"username"`
	}
	hook, am := files, files
	if err := errors.Join(c.Sinks[1].Decode(&hook), c.Sinks[3].Decode(&am)); err != nil {
		t.Fatal(err)
	}
	env := c.SinkEnv(&c.Sinks[0], zerolog.Nop())
	var resolved []Secret
	for _, r := range []SecretRef{{Field: "routing_key", Env: "PD_KEY"}, {Field: "webhook_url", File: hook.WebhookURLFile},
		{Field: "token", Env: "SLACK_BOT"}, {Field: "password", File: am.PasswordFile}} {
		sec, err := env.Resolve(r)
		if err != nil || !sec.IsSet() {
			t.Fatalf("resolve %s: %v", r.Field, err)
		}
		resolved = append(resolved, sec)
	}
	js, err := json.Marshal(struct {
		C *Config
		S []Secret
	}{c, resolved})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"Render": Render(c),
		"%v":     fmt.Sprintf("%v", resolved),
		"%+v":    fmt.Sprintf("%+v", resolved),
		"%#v":    fmt.Sprintf("%#v", resolved),
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
	if !strings.Contains(outputs["Render"], "routing_key_env: PD_KEY") {
		t.Errorf("Render does not say where the secret comes from:\n%s", outputs["Render"])
	}
	if !strings.Contains(outputs["JSON"], `"S":["[REDACTED]"`) {
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
	if err == nil || !strings.HasPrefix(err.Error(), "listeners.crashpager: ") || !strings.Contains(err.Error(), `line 42: unknown field "max"`) || strings.Contains(err.Error(), "struct") {
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

// TestStringLeavesOutInlineSecret: a secret written inline is rejected only
// when its sink is built, so until then String must not print it.
func TestStringLeavesOutInlineSecret(t *testing.T) {
	c, err := Parse([]byte("sinks: [{name: s, type: slack, token: " + canaryToken + ", token_env: SLACK_BOT, channel: x}]"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"Render": Render(c), "JSON": string(js)} {
		if strings.Contains(out, canaryToken) || (name == "String" && !strings.Contains(out, "token_env: SLACK_BOT")) {
			t.Errorf("%s = %s: want the token left out and its source shown", name, out)
		}
	}
}
