package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/config"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "superguard.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadSection does what the skeleton does with crashpager's section: decode
// it from the file, lay the flags over it, prepare it.
func loadSection(path string, args []string, getenv func(string) string) (Config, error) {
	var c Config
	shared, err := config.Load(path)
	if err != nil {
		return c, err
	}
	if err := shared.Listener(listenerName, &c); err != nil {
		return c, err
	}
	fs := flag.NewFlagSet(listenerName, flag.ContinueOnError)
	apply := flags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	apply(&c)
	return c, prepareConfig(&c, getenv)
}

func TestLoadConfig(t *testing.T) {
	env := map[string]string{"DM_URL": "https://hc.example/ping/CANARY-dm"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		yaml    string
		args    []string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{name: "no section: defaults", yaml: "host: h1\n", check: func(t *testing.T, c Config) {
			if c.SpreeThreshold != 3 || c.SpreeWindow != 5*time.Minute || c.StableFor != time.Minute ||
				strings.Join(c.Listeners, ",") != "haltguard,healthprobe,memguard,eventlog" {
				t.Errorf("defaults %+v", c)
			}
		}},
		{name: "section", yaml: `host: h1
listeners:
  crashpager:
    include: ["strat:*", risk_manager]
    exclude: [strat:backtest]
    spree_threshold: 5
    spree_window: 2m
    stable_for: 30s
    listeners: [haltguard]
    deadman: {url_env: DM_URL, method: POST, interval: 30s, timeout: 5s}
    watchdog: {interval: 15s}
`, check: func(t *testing.T, c Config) {
			if c.SpreeThreshold != 5 || c.SpreeWindow != 2*time.Minute || c.StableFor != 30*time.Second ||
				len(c.Include) != 2 || c.Exclude[0] != "strat:backtest" || c.Listeners[0] != "haltguard" ||
				!c.DeadMan.Enabled() || c.DeadMan.Method != "POST" || c.Watchdog.Interval != 15*time.Second {
				t.Errorf("config %+v", c)
			}
		}},
		{name: "flags override", yaml: "listeners:\n  crashpager: {stable_for: 30s, include: [a]}\n",
			args: []string{"-stable-for", "2s", "-spree-window", "10s", "-spree-threshold", "1", "-include", "x:*, y", "-exclude", "z"},
			check: func(t *testing.T, c Config) {
				if c.StableFor != 2*time.Second || c.SpreeWindow != 10*time.Second || c.SpreeThreshold != 1 ||
					strings.Join(c.Include, "|") != "x:*|y" || strings.Join(c.Exclude, "|") != "z" {
					t.Errorf("config %+v", c)
				}
			}},
		{name: "unknown field", yaml: "listeners:\n  crashpager: {stable: 3s}\n",
			wantErr: `line 2: unknown field "stable"`},
		{name: "bad value", yaml: "listeners:\n  crashpager: {spree_window: 10ms}\n",
			wantErr: "listeners.crashpager.spree_window: 10ms: want at least 1s"},
		{name: "bad flag value", yaml: "host: h1\n", args: []string{"-include", "[x"},
			wantErr: `listeners.crashpager.include[0]: pattern "[x": syntax error in pattern`},
		{name: "dead-man env unset", yaml: "listeners:\n  crashpager: {deadman: {url_env: NOPE}}\n",
			wantErr: "listeners.crashpager.deadman.url_env: variable NOPE is not set"},
		{name: "shared config error", yaml: "sinks: [{name: x, rate: -1}]\n", wantErr: "config "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadSection(writeConfig(t, tt.yaml), tt.args, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("load = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "CANARY") {
					t.Fatalf("error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			tt.check(t, c)
		})
	}
}
