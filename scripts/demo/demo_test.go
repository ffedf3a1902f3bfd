package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// fakeBin makes a -bin directory with the given (empty) executables.
func fakeBin(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPrepareRendersTheShippedTemplates renders supervisor-conf/demo with
// every listener built, and with some missing: the confs name only the
// built ones, the strategies get distinct ports, and superguard.yaml is
// valid YAML with a check per strategy.
func TestPrepareRendersTheShippedTemplates(t *testing.T) {
	tests := []struct {
		name        string
		bin         []string
		wantMissing []string
	}{
		{"every listener", []string{"fakestrategy", "eventlog", "crashpager", "haltguard", "healthprobe", "memguard"}, nil},
		{"no memguard nor eventlog", []string{"fakestrategy", "crashpager", "haltguard", "healthprobe"}, []string{"eventlog", "memguard"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st, missing, pass, err := prepare(dir, fakeBin(t, tt.bin...), "../../supervisor-conf/demo", "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(missing, tt.wantMissing) || len(pass) != 0 {
				t.Errorf("missing %v, pass %v; want %v and none", missing, pass, tt.wantMissing)
			}
			conf, err := os.ReadFile(st.conf)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range knownListeners {
				if has := strings.Contains(string(conf), "[eventlistener:"+l.Name+"]"); has == slices.Contains(tt.wantMissing, l.Name) {
					t.Errorf("[eventlistener:%s] in the conf: %v", l.Name, has)
				}
			}
			if !strings.Contains(string(conf), "programs=momentum,mean_revert,market_maker,stat_arb") {
				t.Errorf("conf not rendered as expected:\n%s", conf)
			}
			ports := map[int]bool{st.data.WebPort: true}
			for _, s := range st.data.Strategies {
				ports[s.Port] = true
			}
			if len(ports) != len(st.data.Strategies)+1 {
				t.Errorf("ports not distinct: %+v", st.data)
			}
			var cfg struct {
				StatePath string `yaml:"state_path"`
				Listeners struct {
					Healthprobe struct {
						Checks []struct{ Name string } `yaml:"checks"`
					} `yaml:"healthprobe"`
				} `yaml:"listeners"`
			}
			b, err := os.ReadFile(st.config)
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(b, &cfg); err != nil {
				t.Fatalf("superguard.yaml: %v\n%s", err, b)
			}
			if cfg.StatePath != filepath.Join(dir, "lib/state.db") || len(cfg.Listeners.Healthprobe.Checks) != len(strategyRoles)+1 {
				t.Errorf("superguard.yaml: %+v", cfg)
			}
			if fi, err := os.Stat(st.conf); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("supervisord.conf (with the web UI's password) mode %v, %v; want 0600", fi.Mode(), err)
			}
		})
	}
}

func TestPrepareNeedsTheStrategiesAndTheGate(t *testing.T) {
	for _, bin := range [][]string{{"haltguard"}, {"fakestrategy"}} {
		if _, _, _, err := prepare(t.TempDir(), fakeBin(t, bin...), "../../supervisor-conf/demo", ""); err == nil {
			t.Errorf("prepare with only %v: no error", bin)
		}
	}
}

// TestOptInSinks: the sinks of SUPERGUARD_DEMO_SINKS join the demo's
// config and routes, and only the variables they name are passed on.
func TestOptInSinks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sinks.yaml")
	if err := os.WriteFile(file, []byte("sinks:\n  - name: ops\n    type: slack\n    webhook_url_env: DEMO_SLACK_URL\n  - name: oncall\n    type: pagerduty\n    routing_key_file: /secrets/pd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	items, route, env, err := optInSinks(file)
	if err != nil {
		t.Fatal(err)
	}
	if route != "log, ops, oncall" || !slices.Equal(env, []string{"DEMO_SLACK_URL"}) || len(items) != 2 {
		t.Fatalf("items %q, route %q, env %v", items, route, env)
	}
	st, _, pass, err := prepare(filepath.Join(dir, "stack"), fakeBin(t, "fakestrategy", "haltguard"), "../../supervisor-conf/demo", file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(st.config)
	var cfg struct {
		Sinks  []map[string]any `yaml:"sinks"`
		Routes []struct {
			Sinks []string `yaml:"sinks"`
		} `yaml:"routes"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(cfg.Sinks) != 3 || cfg.Sinks[1]["webhook_url_env"] != "DEMO_SLACK_URL" || !slices.Equal(cfg.Routes[0].Sinks, []string{"log", "ops", "oncall"}) {
		t.Errorf("config with opted-in sinks:\n%s", b)
	}
	if !slices.Equal(pass, []string{"DEMO_SLACK_URL"}) {
		t.Errorf("pass %v", pass)
	}
	for _, bad := range []string{"sinks: []\n", "sinks:\n  - type: slack\n", "sinks:\n  - name: log\n    type: log\n", "sinks: [\n"} {
		if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := optInSinks(file); err == nil || !strings.Contains(err.Error(), "SUPERGUARD_DEMO_SINKS") {
			t.Errorf("%q: error %v, want one naming SUPERGUARD_DEMO_SINKS", bad, err)
		}
	}
}

// TestDemoEnvCarriesNoCredentials: supervisord, and so every program and
// listener, gets a minimal environment: a token in the caller's shell
// never reaches a sink unless the opt-in file names it.
func TestDemoEnvCarriesNoCredentials(t *testing.T) {
	t.Setenv("SLACK_TOKEN", "xoxb-CANARY")
	t.Setenv("PAGERDUTY_ROUTING_KEY", "CANARY")
	t.Setenv("SUPERVISOR_PASSWORD", "CANARY")
	t.Setenv("DEMO_SLACK_URL", "https://hooks.example/CANARY")
	env := strings.Join(demoEnv(nil), "\n")
	if strings.Contains(env, "CANARY") || !strings.Contains(env, "PATH=") {
		t.Errorf("demo environment:\n%s", env)
	}
	if env := strings.Join(demoEnv([]string{"DEMO_SLACK_URL"}), "\n"); !strings.Contains(env, "DEMO_SLACK_URL=https://hooks.example/CANARY") || strings.Contains(env, "xoxb") {
		t.Errorf("opted-in environment:\n%s", env)
	}
}

// TestTimelinePlainAndColour: plain output is ASCII markers with no escape
// codes; colour output has them.
func TestTimelinePlainAndColour(t *testing.T) {
	var plain, colour bytes.Buffer
	start := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		buf  *bytes.Buffer
		mode string
	}{{&plain, "never"}, {&colour, "always"}} {
		tl, err := newTimeline(tc.buf, tc.mode)
		if err != nil {
			t.Fatal(err)
		}
		tl.start, tl.now = start, func() time.Time { return start.Add(1500 * time.Millisecond) }
		tl.step(1, 8, "a strategy's feed freezes (%s)", "trading:momentum")
		tl.ok("restarted in %s", seconds(6100*time.Millisecond))
		tl.fail("no alert")
		tl.skip("memguard is not built")
	}
	want := "[   1.5s] ==>  step 1/8: a strategy's feed freezes (trading:momentum)\n" +
		"[   1.5s]   ok   restarted in 6.1 s\n" +
		"[   1.5s]   FAIL no alert\n" +
		"[   1.5s]   skip memguard is not built\n"
	if plain.String() != want {
		t.Errorf("plain:\n%s\nwant:\n%s", plain.String(), want)
	}
	if !strings.Contains(colour.String(), "\x1b[32m✓ restarted in 6.1 s\x1b[0m") {
		t.Errorf("colour: %q", colour.String())
	}
	if _, err := newTimeline(&plain, "sometimes"); err == nil {
		t.Error("-color sometimes accepted")
	}
	if tl, _ := newTimeline(&plain, "auto"); tl.color {
		t.Error("colour on a buffer")
	}
}

func TestSecondsAndOneLine(t *testing.T) {
	if got := seconds(23 * time.Millisecond); got != "23 ms" {
		t.Errorf("seconds(23ms) = %q", got)
	}
	if got := seconds(61500 * time.Millisecond); got != "61.5 s" {
		t.Errorf("seconds(61.5s) = %q", got)
	}
	if got := oneLine("first\nsecond", 50); got != "first ..." {
		t.Errorf("oneLine = %q", got)
	}
	if got := oneLine(strings.Repeat("é", 20), 10); got != "ééééééé..." {
		t.Errorf("oneLine = %q", got)
	}
}

// TestStepOfAMissingListenerIsSkipped: a step whose listener is not built
// says so and does not run; the others run, and a failure is reported
// without ending the story.
func TestStepOfAMissingListenerIsSkipped(t *testing.T) {
	var out bytes.Buffer
	tl, _ := newTimeline(&out, "never")
	st := &stack{data: confData{Listeners: []listenerSpec{{Name: "haltguard"}}}}
	sc := &scenario{st: st, tl: tl}
	var ran []string
	sc.play(context.Background(), []step{
		{"a leak", []string{"memguard"}, func(context.Context) error { ran = append(ran, "leak"); return nil }},
		{"a halt", []string{"haltguard"}, func(context.Context) error { ran = append(ran, "halt"); return errors.New("no halt") }},
		{"the end", nil, func(context.Context) error { ran = append(ran, "end"); return nil }},
	})
	if !slices.Equal(ran, []string{"halt", "end"}) || !slices.Equal(sc.failed, []string{"a halt"}) {
		t.Errorf("ran %v, failed %v", ran, sc.failed)
	}
	for _, want := range []string{
		"==>  step 1/3: a leak\n",
		"skip skipped: memguard is not built yet (no listeners/memguard), so nothing here would react\n",
		"==>  step 2/3: a halt\n", "FAIL no halt\n", "==>  step 3/3: the end\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}
