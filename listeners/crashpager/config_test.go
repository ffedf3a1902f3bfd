package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/procmatch"
)

func TestMatcher(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		group, process   string
		want             bool
	}{
		{name: "empty include selects all", group: "g", process: "p", want: true},
		{name: "bare name", include: []string{"mm"}, group: "strat", process: "mm", want: true},
		{name: "bare name selects the group too", include: []string{"strat"}, group: "strat", process: "mm", want: true},
		{name: "star:name is the program only", include: []string{"*:strat"}, group: "strat", process: "mm", want: false},
		{name: "group star", include: []string{"strat:*"}, group: "strat", process: "mm", want: true},
		{name: "group star other group", include: []string{"strat:*"}, group: "feed", process: "mm", want: false},
		{name: "glob name", include: []string{"feed_*"}, group: "feeds", process: "feed_cme", want: true},
		{name: "glob group and name", include: []string{"tr?d*:mm_[ab]"}, group: "trading", process: "mm_b", want: true},
		{name: "colon in a name is not split twice", include: []string{"g:a*"}, group: "g", process: "a:b", want: true},
		{name: "exclude wins", include: []string{"strat:*"}, exclude: []string{"mm"}, group: "strat", process: "mm", want: false},
		{name: "exclude other", exclude: []string{"feed:*"}, group: "strat", process: "mm", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := procmatch.New(tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Match(tt.group, tt.process); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.group, tt.process, got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" for valid
	}{
		{name: "defaults", cfg: Config{}},
		{name: "bad include pattern", cfg: Config{Include: []string{"ok", "[x"}},
			wantErr: `listeners.crashpager.include[1]: pattern "[x": syntax error in pattern`},
		{name: "empty exclude pattern", cfg: Config{Exclude: []string{" "}},
			wantErr: "listeners.crashpager.exclude[0]: empty pattern"},
		{name: "two colons", cfg: Config{Listeners: []string{"a:b:c"}},
			wantErr: `listeners.crashpager.listeners[0]: pattern "a:b:c": want name or group:name`},
		{name: "negative threshold", cfg: Config{SpreeThreshold: -1},
			wantErr: "listeners.crashpager.spree_threshold: -1: want at least 1"},
		{name: "tiny window", cfg: Config{SpreeWindow: time.Millisecond},
			wantErr: "listeners.crashpager.spree_window: 1ms: want at least 1s"},
		{name: "negative stable_for", cfg: Config{StableFor: -time.Second},
			wantErr: "listeners.crashpager.stable_for: -1s: must not be negative"},
		{name: "huge tail", cfg: Config{TailBytes: 1 << 20},
			wantErr: "listeners.crashpager.tail_bytes: 1048576: want -1 (off) or up to 65536"},
		{name: "tail off", cfg: Config{TailBytes: -1}},
		{name: "slow tail", cfg: Config{TailTimeout: time.Minute},
			wantErr: "listeners.crashpager.tail_timeout: 1m0s: want at most 5s (it delays the ack)"},
		{name: "runbook", cfg: Config{Runbook: "no url"}, wantErr: `listeners.crashpager.runbook: not a URL: "no url"`},
		{name: "deadman both", cfg: Config{DeadMan: DeadManConfig{URLEnv: "A", URLFile: "/b"}},
			wantErr: "listeners.crashpager.deadman.url_env: set url_env or url_file, not both"},
		{name: "deadman method", cfg: Config{DeadMan: DeadManConfig{Method: "PUT"}},
			wantErr: `listeners.crashpager.deadman.method: "PUT": want GET or POST`},
		{name: "deadman timeout", cfg: Config{DeadMan: DeadManConfig{Timeout: 2 * time.Minute}},
			wantErr: "listeners.crashpager.deadman.timeout: 2m0s: want more than 0 and at most the interval"},
		{name: "watchdog interval", cfg: Config{Watchdog: sections.Watchdog{Interval: time.Millisecond}},
			wantErr: "listeners.crashpager.watchdog.interval: 1ms: want at least 1s"},
		{name: "late periods", cfg: Config{LatePeriods: -2},
			wantErr: "listeners.crashpager.late_periods: -2: want at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.WithDefaults().Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDeadManResolve(t *testing.T) {
	const canary = "https://hc-ping.example/CANARY-dead-man-token"
	dir := t.TempDir()
	good := filepath.Join(dir, "url")
	if err := os.WriteFile(good, []byte(canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("ftp://CANARY-dead-man-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DM_URL": canary, "DM_BAD": "CANARY-dead-man-token"}
	tests := []struct {
		name    string
		cfg     DeadManConfig
		wantURL string
		wantErr string
	}{
		{name: "off", cfg: DeadManConfig{}},
		{name: "env", cfg: DeadManConfig{URLEnv: "DM_URL"}, wantURL: canary},
		{name: "file", cfg: DeadManConfig{URLFile: good}, wantURL: canary},
		{name: "unset env", cfg: DeadManConfig{URLEnv: "DM_MISSING"}, wantErr: "url_env: variable DM_MISSING is not set"},
		{name: "not a url", cfg: DeadManConfig{URLEnv: "DM_BAD"},
			wantErr: "url_env: not an http(s) URL (value not shown: it may hold a token)"},
		{name: "bad scheme in file", cfg: DeadManConfig{URLFile: bad},
			wantErr: "url_file: not an http(s) URL (value not shown: it may hold a token)"},
		{name: "missing file", cfg: DeadManConfig{URLFile: filepath.Join(dir, "none")}, wantErr: "url_file: open "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.cfg
			err := d.Resolve(func(k string) string { return env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("resolve = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "CANARY") {
					t.Fatalf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.URL != tt.wantURL || d.Enabled() != (tt.wantURL != "") {
				t.Errorf("url %q enabled %v", d.URL, d.Enabled())
			}
		})
	}
}
