package healthprobe_test

import (
	"testing"

	"github.com/superguard/superguard/integration/harness"
)

// TestMissingStdoutHeartbeatRestarts: a strategy proving it is alive with
// XSUPERVISOR frames on stdout (PROCESS_COMMUNICATION_STDOUT) is healthy
// while they come, and restarted once it hangs and they stop for a TTL.
func TestMissingStdoutHeartbeatRestarts(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: harness.Program{Name: "beater", Command: fake + " -heartbeat 1s -hang-after 8s",
		Extra: []string{"stdout_capture_maxbytes=1MB", "stdout_logfile={{.Dir}}/beater.out"}}.Section(), Healthprobe: `
checks:
  - name: alive
    processes: [beater]
    heartbeat: {channel: stdout, ttl: 5s}
    grace: 2s
    failures: 1
`})
	e.healthyThenRestarted(t, "alive", "beater", "last heartbeat", "last heartbeat", "(ttl 5s)")
}

// TestNotifyWatchdog: a strategy written for systemd (sd_notify to
// $NOTIFY_SOCKET) works unchanged: READY=1 ends a long start-up grace at
// once, WATCHDOG=1 keeps it healthy, and when it hangs and the watchdog
// pings stop for a TTL it is restarted, long before the grace would have
// ended.
func TestNotifyWatchdog(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: harness.Program{Name: "sd", Command: fake + " -notify 1s -ready-after 1s -hang-after 10s",
		Extra: []string{`environment=NOTIFY_SOCKET="{{.Dir}}/n/%(group_name)s:%(program_name)s.sock"`}}.Section(), Healthprobe: `
notify_dir: "{{.Dir}}/n"
checks:
  - name: watchdog
    processes: [sd]
    heartbeat: {channel: notify, ttl: 5s}
    grace: 10m
    failures: 1
`})
	// Healthy on READY=1's STATUS= at once, not after the 10m grace.
	e.healthyThenRestarted(t, "watchdog", "sd", "STATUS: trading", "(ttl 5s)")
}

// TestNotifyFromAnotherProcessIsIgnored: a datagram on the socket from a
// process that is not the program (or its child) does not count as a
// heartbeat: the silent program is still restarted.
func TestNotifyFromAnotherProcessIsIgnored(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: harness.Program{Name: "silent", Command: "/bin/sleep 1000"}.Section() +
		harness.Program{Name: "forger", Command: `/bin/sh -c 'while true; do ` + fake + ` -notify 500ms -exit-after 1s >/dev/null 2>&1; done'`,
			Extra: []string{`environment=NOTIFY_SOCKET="{{.Dir}}/n/silent:silent.sock"`}}.Section(), Healthprobe: `
notify_dir: "{{.Dir}}/n"
checks:
  - name: watchdog
    processes: [silent]
    heartbeat: {channel: notify, ttl: 5s}
    grace: 1s
    failures: 1
`})
	pid := e.s.ProcessPID(t, "silent")
	e.s.WaitListenerLog(t, "healthprobe", "not the program or its child: ignored", waitAction)
	e.s.WaitRestarted(t, "silent", pid, waitAction)
}
