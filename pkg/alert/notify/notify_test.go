package notify

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert/alertmanager"
	"github.com/superguard/superguard/pkg/alert/logsink"
	"github.com/superguard/superguard/pkg/alert/pagerduty"
	"github.com/superguard/superguard/pkg/alert/slack"
	"github.com/superguard/superguard/pkg/config/configtest"
)

// Canary secrets: none of them may ever show up in output.
const (
	canaryPD    = "pdkeyCANARY0123456789abcdef01234"
	canaryHook  = "https://hooks.slack.example/services/T0CANARY/B0CANARY/hookCANARYsecret"
	canaryToken = "xoxb-CANARY-token-1234"
	canaryAM    = "amCANARYpassword"
)

var canaries = []string{canaryPD, canaryHook, "T0CANARY/B0CANARY/hookCANARYsecret", canaryToken, canaryAM}

func TestBuild(t *testing.T) {
	t.Setenv("PD_KEY", "0123456789abcdef0123456789abcdef")
	t.Setenv("HOOK", canaryHook)
	c := configtest.Parse(t, `sinks:
  - {name: oncall, type: pagerduty, routing_key_env: PD_KEY}
  - {name: ops, type: slack, webhook_url_env: HOOK}
  - {name: am, type: alertmanager, urls: ["http://am:9093"], refresh: 30s}
  - {name: log, type: log}`)
	ns, err := Build(c, zerolog.Nop())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(ns) != 4 {
		t.Fatalf("got %d notifiers, want 4", len(ns))
	}
	if _, ok := ns["oncall"].(*pagerduty.Notifier); !ok {
		t.Errorf("oncall is %T", ns["oncall"])
	}
	if _, ok := ns["ops"].(*slack.Notifier); !ok {
		t.Errorf("ops is %T", ns["ops"])
	}
	if _, ok := ns["log"].(*logsink.Notifier); !ok {
		t.Errorf("log is %T", ns["log"])
	}
	am, ok := ns["am"].(*alertmanager.Notifier)
	if !ok {
		t.Fatalf("am is %T", ns["am"])
	}
	if got := am.RefreshInterval(); got != 30*time.Second {
		t.Errorf("am refresh = %v, want 30s", got)
	}
	if got := c.Redact("POST " + canaryHook); strings.Contains(got, "CANARY") {
		t.Errorf("Redact after Build = %q: the webhook resolved by Build is not redacted", got)
	}
}

// TestLoadNeedsNoSinkSecret: reading the file reads no sink secret; only
// building the sink does.
func TestLoadNeedsNoSinkSecret(t *testing.T) {
	c := configtest.Parse(t, `sinks: [{name: pd, type: pagerduty, routing_key_env: PD_KEY_UNSET}]`)
	_, err := Build(c, zerolog.Nop())
	if want := "sinks[0].routing_key_env: variable PD_KEY_UNSET is not set"; err == nil || err.Error() != want {
		t.Errorf("Build = %v, want %q", err, want)
	}
}

func TestBuildErrors(t *testing.T) {
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
		{"unknown field", "sinks: [{name: a, type: log, colour: red}]", []string{"sinks[0].colour: not used by a log sink"}},
		{"bad type", `sinks: [{name: a, type: email}]`, []string{`sinks[0].type: "email": want pagerduty, slack, log or alertmanager`}},
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
		{"two bad sinks", `sinks: [{name: pd, type: pagerduty}, {name: am, type: alertmanager}]`, []string{
			"sinks[0]: routing_key_env or routing_key_file is required",
			"sinks[1].urls: at least one Alertmanager URL is required",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(configtest.Parse(t, tc.yaml), zerolog.Nop())
			if err == nil {
				t.Fatalf("Build succeeded, want %q", tc.want)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			for _, c := range canaries {
				if strings.Contains(err.Error(), c) {
					t.Errorf("error reveals a secret: %v", err)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	// A routing key the PagerDuty sink rejects (not 32 characters): the
	// config itself is fine, the sink constructor is not.
	t.Setenv("PD_SHORT", canaryPD[:10])
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	short := write("short.yaml", `sinks: [{name: oncall, type: pagerduty, routing_key_env: PD_SHORT}]`)
	unset := write("unset.yaml", `sinks: [{name: pd, type: pagerduty, routing_key_env: PD_KEY_UNSET}]`)
	old := write("old.yaml", `
routes:
  - {match: {program: [risk_*]}, sinks: [log]}
  - {match: {group: [strategies]}, sinks: [log]}
  - {match: {process: ["strategies:*"]}, sinks: [log]}
  - {match: {group: [a, b], program: [x]}, sinks: [log]}
  - {match: {processes: ["*:risk_*"]}, sinks: [log]}
maintenance:
  - {name: m, from: 2026-07-04T20:00:00Z, until: 2026-07-04T23:00:00Z, groups: [gateways], processes: ["risk:*"]}
`)
	tests := []struct {
		name, path string
		wantErr    string
		wantWarn   []string
	}{
		{"sink constructor", short, "config " + short + ": sinks[0] (oncall): pagerduty: routing key: 10 characters: want 32 letters or digits", nil},
		{"unresolved secret", unset, "config " + unset + ": sinks[0].routing_key_env: variable PD_KEY_UNSET is not set", nil},
		{"defaults", "", "", nil},
		{"deprecated selectors", old, "", []string{
			`config ` + old + `: warning: routes[0].match.program: [risk_*] is deprecated: write processes: ["*:risk_*"]`,
			`config ` + old + `: warning: routes[1].match.group: [strategies] is deprecated: write processes: ["strategies:*"]`,
			`config ` + old + `: warning: routes[2].match.process: [strategies:*] is deprecated: write processes: ["strategies:*"]`,
			`config ` + old + `: warning: routes[3].match: program: [x], group: [a b] are deprecated: write processes: ["a:x", "b:x"]`,
			`config ` + old + `: warning: maintenance[0].groups: [gateways] is deprecated: write processes: ["gateways:*", "risk:*"]`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var warn bytes.Buffer
			err := Check(tc.path, &warn)
			if got := errString(err); got != tc.wantErr {
				t.Errorf("Check = %q, want %q", got, tc.wantErr)
			}
			if got, want := warn.String(), joinLines(tc.wantWarn); got != want {
				t.Errorf("warnings:\n%s\nwant:\n%s", got, want)
			}
			if strings.Contains(errString(err), canaryPD[:10]) {
				t.Errorf("Check reveals the routing key: %v", err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
