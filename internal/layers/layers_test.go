// Package layers holds a test of the module's import layering: what a
// package must not link, so that a change that drags a sink library into
// the kill switch, or the state store into the event tap, fails here
// rather than in a benchmark's RSS figure.
package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/superguard/superguard"

// sinks are the alert sink libraries and superguard's sink packages.
var sinks = []string{
	"github.com/slack-go/slack",
	"github.com/PagerDuty/go-pagerduty",
	module + "/pkg/alert/slack",
	module + "/pkg/alert/pagerduty",
	module + "/pkg/alert/alertmanager",
	module + "/pkg/alert/notify",
}

func TestLayers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, tc := range []struct {
		pkg     string
		mustNot []string
		why     string
	}{
		{module + "/pkg/halt", sinks, "the kill-switch engine works without any sink"},
		{module + "/pkg/config", sinks, "decoding the YAML builds no sink (the notifier factory lives in pkg/alert/notify)"},
		{module + "/listeners/eventlog", append([]string{
			"modernc.org/sqlite", module + "/pkg/state", module + "/pkg/listener/configfile",
			module + "/pkg/listener/durable",
		}, sinks...), "the event tap keeps no state, reads no YAML file and sends no alert"},
	} {
		out, err := exec.Command("go", "list", "-deps", tc.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", tc.pkg, err)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		for _, bad := range tc.mustNot {
			if deps[bad] {
				t.Errorf("%s links %s: %s", tc.pkg, bad, tc.why)
			}
		}
	}
}
