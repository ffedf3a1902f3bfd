package config

import (
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
)

func TestBuildNotifiers(t *testing.T) {
	t.Setenv("PD_KEY", "0123456789abcdef0123456789abcdef")
	t.Setenv("HOOK", canaryHook)
	c, err := Parse([]byte(`sinks:
  - {name: oncall, type: pagerduty, routing_key_env: PD_KEY}
  - {name: ops, type: slack, webhook_url_env: HOOK}
  - {name: am, type: alertmanager, urls: ["http://am:9093"], refresh: 30s}
  - {name: log, type: log}`))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := BuildNotifiers(c, zerolog.Nop())
	if err != nil {
		t.Fatalf("BuildNotifiers: %v", err)
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
}

func TestCheckReportsSinkErrors(t *testing.T) {
	// A routing key the PagerDuty sink rejects (not 32 characters): the
	// config itself is fine, the sink constructor is not.
	t.Setenv("PD_SHORT", canaryPD[:10])
	p := filepath.Join(t.TempDir(), "sg.yaml")
	if err := os.WriteFile(p, []byte(`sinks: [{name: oncall, type: pagerduty, routing_key_env: PD_SHORT}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Check(p)
	want := "config " + p + ": sinks[0] (oncall): pagerduty: routing key: 10 characters: want 32 letters or digits"
	if err == nil || err.Error() != want {
		t.Fatalf("Check = %v, want %q", err, want)
	}
	if strings.Contains(err.Error(), canaryPD[:10]) {
		t.Errorf("Check reveals the routing key: %v", err)
	}
	if err := Check(""); err != nil {
		t.Errorf("Check of the defaults = %v", err)
	}
}
