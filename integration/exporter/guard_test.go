package exporter_test

import (
	"syscall"
	"testing"

	"github.com/superguard/superguard/integration/harness"
)

// TestGuardMetrics: beside haltguard and healthprobe, the exporter serves
// their health from the state store and their status files: heartbeats,
// a probe's result and data age, the latch clear; then
// the risk manager dies, haltguard halts trading, and the exporter shows
// the latch, the halt by its trigger and its duration.
func TestGuardMetrics(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{
		Others: []harness.Guard{
			{Name: "haltguard", Body: "critical: [risk_manager]\ntargets: [\"trading:*\"]\nstartup_grace: 1s\n"},
			{Name: "healthprobe", Body: "checks:\n  - name: tick\n    processes: [\"trading:*\"]\n    file: {path: \"{{.Dir}}/%(process_name)s.tick\", max_age: 5s}\n    grace: 1s\n"},
		},
		Programs: harness.Program{Name: "risk_manager", Command: "/bin/sleep 1000"}.Section() +
			harness.Program{Name: "strat", Command: `/bin/sh -c 'while true; do touch {{.Dir}}/strat.tick; sleep 0.5; done'`}.Section() +
			"\n[group:trading]\nprograms=strat\n",
	})
	probe := []string{"check", "tick", "process", "trading:strat"}
	e.waitValue(t, "the probe passing", waitLoop, func(v float64) bool { return v == 1 }, "superguard_probe_success", probe...)
	e.waitValue(t, "the data age", waitLoop, func(v float64) bool { return v >= 0 && v < 5 }, "superguard_probe_data_age_seconds", probe...)
	for _, l := range []string{"haltguard", "healthprobe", "exporter"} {
		e.waitValue(t, l+"'s heartbeat", waitLoop, func(v float64) bool { return v > 0 }, "superguard_listener_heartbeat_timestamp_seconds", "listener", l)
	}
	e.waitValue(t, "the latch clear", waitLoop, func(v float64) bool { return v == 0 }, "superguard_halt_latched")
	e.s.Signal(t, "risk_manager", syscall.SIGKILL)
	e.waitValue(t, "the latch set", waitLoop, func(v float64) bool { return v == 1 }, "superguard_halt_latched")
	e.waitValue(t, "the halt counted", waitLoop, func(v float64) bool { return v == 1 }, "superguard_halts_total", "trigger", "process")
	e.waitValue(t, "the halt's duration", waitLoop, func(v float64) bool { return v == 1 }, "superguard_halt_duration_seconds")
	e.waitValue(t, "the strategy stopped", waitLoop, func(v float64) bool { return v == 1 }, "supervisor_process_state", "name", "strat", "state", "STOPPED")
}
