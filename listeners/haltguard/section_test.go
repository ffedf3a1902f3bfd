package main

import (
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
)

func TestLoadSection(t *testing.T) {
	tests := []struct {
		name        string
		section     string
		want        halt.Config // checked fields: Critical, Targets, VerifyTimeout, Flatten
		wantErr     string
		wantRunbook string
	}{
		{name: "full", section: `
    critical: risk_manager
    targets: [trading, "hedge:*"]
    trigger_on_exited: true
    verify_timeout: 2s
    flatten: {command: [/bin/flatten, --all], timeout: 10s}
    runbook: https://wiki/kill-switch`, wantRunbook: "https://wiki/kill-switch",
			want: halt.Config{Critical: []string{"risk_manager"}, Targets: []string{"trading", "hedge:*"},
				VerifyTimeout: 2 * time.Second,
				Flatten:       halt.FlattenConfig{Command: []string{"/bin/flatten", "--all"}, Timeout: 10 * time.Second}}},
		{name: "negative start-up grace", section: `
    critical: [risk_manager]
    targets: [trading]
    startup_grace: -1s`, wantErr: "listeners.haltguard.startup_grace: must not be negative"},
		{name: "empty target list", section: `
    critical: [risk_manager]
    targets: []`, wantErr: "listeners.haltguard.targets: empty target list"},
		{name: "no section", section: "", wantErr: "listeners.haltguard.critical: no critical programs"},
		{name: "unknown field", section: `
    critical: [risk_manager]
    targets: [trading]
    trigger_on_exit: true`, wantErr: `line 6: unknown field "trigger_on_exit"`},
		{name: "bare number duration", section: `
    critical: [risk_manager]
    targets: [trading]
    verify_timeout: 300`, wantErr: `duration "300": want a number with a unit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "host: h1\n"
			if tt.section != "" {
				doc += "listeners:\n  haltguard:" + tt.section + "\n"
			}
			shared, err := config.Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			var sec section
			err = shared.Listener(listenerName, &sec)
			var got halt.Config
			var pc pageConfig
			if err == nil {
				got, pc, err = configs(&sec, shared.Host)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pc.Host != "h1" || pc.Runbook != tt.wantRunbook || !equal(got.Critical, tt.want.Critical) || !equal(got.Targets, tt.want.Targets) ||
				got.VerifyTimeout != tt.want.VerifyTimeout ||
				!equal(got.Flatten.Command, tt.want.Flatten.Command) || got.Flatten.Timeout != tt.want.Flatten.Timeout {
				t.Errorf("haltConfig = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func equal[S ~[]string](a, b S) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}
