package healthprobe_test

import (
	"strings"
	"testing"
)

// TestMissingStdoutHeartbeatRestarts: a strategy proving it is alive with
// XSUPERVISOR frames on stdout (PROCESS_COMMUNICATION_STDOUT) is healthy
// while they come, and restarted once it hangs and they stop for a TTL.
func TestMissingStdoutHeartbeatRestarts(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: `
[program:beater]
command=` + fake + ` -heartbeat 1s -hang-after 8s
startsecs=1
autorestart=true
stdout_capture_maxbytes=1MB
stdout_events_enabled=false
stdout_logfile={{.Dir}}/beater.out
stderr_logfile={{.Dir}}/beater.err
`, Healthprobe: `
checks:
  - name: alive
    processes: [beater]
    heartbeat: {channel: stdout, ttl: 5s}
    grace: 2s
    failures: 1
`})
	pid := e.pid(t, "beater")
	e.waitTarget(t, "alive", "beater:beater", "healthy on heartbeats", waitUp, func(s targetStatus) bool {
		return s.State == "healthy" && strings.Contains(s.Evidence, "last heartbeat")
	})
	e.waitRestarted(t, "beater", pid)
	e.waitAction(t, "alive", "beater:beater", "restarted", "last heartbeat", "(ttl 5s)")
}

// TestNotifyWatchdog: a strategy written for systemd (sd_notify to
// $NOTIFY_SOCKET) works unchanged: READY=1 ends a long start-up grace at
// once, WATCHDOG=1 keeps it healthy, and when it hangs and the watchdog
// pings stop for a TTL it is restarted, long before the grace would have
// ended.
func TestNotifyWatchdog(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: `
[program:sd]
command=` + fake + ` -notify 1s -ready-after 1s -hang-after 10s
environment=NOTIFY_SOCKET="{{.Dir}}/n/%(group_name)s:%(program_name)s.sock"
startsecs=1
autorestart=true
stderr_logfile={{.Dir}}/sd.err
`, Healthprobe: `
notify_dir: "{{.Dir}}/n"
checks:
  - name: watchdog
    processes: [sd]
    heartbeat: {channel: notify, ttl: 5s}
    grace: 10m
    failures: 1
`})
	pid := e.pid(t, "sd")
	e.waitTarget(t, "watchdog", "sd:sd", "healthy after READY=1", waitUp, func(s targetStatus) bool {
		return s.State == "healthy" && strings.Contains(s.Evidence, "STATUS: trading")
	})
	e.waitRestarted(t, "sd", pid)
	e.waitAction(t, "watchdog", "sd:sd", "restarted", "(ttl 5s)")
}

// TestNotifyFromAnotherProcessIsIgnored: a datagram on the socket from a
// process that is not the program (or its child) does not count as a
// heartbeat: the silent program is still restarted.
func TestNotifyFromAnotherProcessIsIgnored(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: `
[program:silent]
command=/bin/sleep 1000
startsecs=1
autorestart=true

[program:forger]
command=/bin/sh -c 'while true; do ` + "{{bin \"./integration/cmd/fakestrategy\"}}" + ` -notify 500ms -exit-after 1s >/dev/null 2>&1; done'
environment=NOTIFY_SOCKET="{{.Dir}}/n/silent:silent.sock"
startsecs=1
autorestart=true
`, Healthprobe: `
notify_dir: "{{.Dir}}/n"
checks:
  - name: watchdog
    processes: [silent]
    heartbeat: {channel: notify, ttl: 5s}
    grace: 1s
    failures: 1
`})
	pid := e.pid(t, "silent")
	e.s.WaitListenerLog(t, "healthprobe", "not the program or its child: ignored", waitAction)
	e.waitRestarted(t, "silent", pid)
}
