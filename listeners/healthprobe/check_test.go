package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superguard/superguard/pkg/listener"
)

// TestCheckNamesTheField: -check refuses a bad check with a message naming
// its field and its line in the file.
func TestCheckNamesTheField(t *testing.T) {
	// name: {the check, what the error says}
	for name, tc := range map[string][2]string{
		"bad URL": {`{name: api, processes: [strat], http: {url: "127.0.0.1:8000/health"}}`,
			`listeners.healthprobe.checks[0].http.url: "127.0.0.1:8000/health": want an absolute http or https URL`},
		"invalid assertion": {`{name: api, processes: [strat], http: {url: "http://127.0.0.1/h", assert: ["md_lag_ms <"]}}`,
			`listeners.healthprobe.checks[0].http.assert[0]: assertion "md_lag_ms <"`},
		"TTL shorter than the tick": {`{name: hb, processes: [strat], heartbeat: {channel: stdout, ttl: 2s}}`,
			`listeners.healthprobe.checks[0].heartbeat.ttl: 2s: shorter than the tick`},
		"no kind":               {`{name: x, processes: [strat]}`, "want exactly one of http, tcp, command, file and heartbeat"},
		"two kinds":             {`{name: x, processes: [strat], tcp: {address: "h:1"}, file: {path: /x, max_age: 1s}}`, "(found 2)"},
		"bad placeholder":       {`{name: x, processes: [strat], tcp: {address: "127.0.0.1:%(port)d"}}`, "unknown placeholder"},
		"bad period":            {`{name: x, processes: [strat], tcp: {address: "h:1"}, every: 7s}`, "every: 7s: want a multiple of 5s"},
		"bad policy":            {`{name: x, processes: [strat], tcp: {address: "h:1"}, policy: reboot}`, `policy: "reboot": want restart, alert or halt`},
		"bad window":            {`{name: x, processes: [strat], tcp: {address: "h:1"}, active: {timezone: Mars/Olympus, windows: [{start: "09:00", end: "17:00"}]}}`, `unknown time zone "Mars/Olympus"`},
		"bad flapping form":     {`{name: x, processes: [strat], tcp: {address: "h:1"}, failures: 4, within: 2}`, "4 within 2 probes"},
		"bad regex":             {`{name: x, processes: [strat], http: {url: "http://h/", body_regex: "("}}`, "body_regex"},
		"stale without max age": {`{name: x, processes: [strat], http: {url: "http://h/", timestamp: {field: t}}}`, "max_age"},
	} {
		check, want := tc[0], tc[1]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "superguard.yaml")
			yaml := "state_path: " + filepath.Join(t.TempDir(), "state.db") + "\nlisteners:\n  healthprobe:\n    checks:\n      - " + check + "\n"
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr strings.Builder
			code := listener.Run(spec, []string{"-check", "-file-only", "-config", path}, listener.IO{Stdout: &stdout, Stderr: &stderr})
			if code != listener.ExitUsage || !strings.Contains(stderr.String(), want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr.String(), want)
			}
			if !strings.Contains(stderr.String(), "line 5") {
				t.Errorf("stderr does not give the line:\n%s", stderr.String())
			}
		})
	}
}

// TestFlagsMakeTheSimpleCase: -url and -processes add an HTTP check
// without a config file section.
func TestFlagsMakeTheSimpleCase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "superguard.yaml")
	if err := os.WriteFile(path, []byte("state_path: "+filepath.Join(t.TempDir(), "s.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := listener.Run(spec, []string{"-check", "-file-only", "-config", path, "-url", "http://127.0.0.1:80%(process_num)02d/health", "-processes", "trading"},
		listener.IO{Stdout: &stdout, Stderr: &stderr})
	if code != listener.ExitOK {
		t.Errorf("exit %d\n%s", code, stderr.String())
	}
	code = listener.Run(spec, []string{"-check", "-file-only", "-config", path}, listener.IO{Stdout: &stdout, Stderr: &stderr})
	if code != listener.ExitUsage || !strings.Contains(stderr.String(), "no check configured") {
		t.Errorf("no checks: exit %d\n%s", code, stderr.String())
	}
}
