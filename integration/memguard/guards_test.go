package memguard_test

import (
	"strings"
	"testing"
)

// TestCPUWarnsForASpinNotForABurst: a strategy stuck in a busy loop gets
// a CPU warning once it stayed above the guard's cores for its duration;
// one that was busy for a moment and then idle gets none. Neither is
// restarted.
func TestCPUWarnsForASpinNotForABurst(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: program("spinner", "-spin") + program("burst", "-spin -spin-for 4s"), Memguard: `
host: {off: true}
cpu:
  - processes: ["*"]
    max: 0.3
    for: 20s
`})
	spinner := e.s.ProcessPID(t, "spinner")
	e.waitIncident(t, host+"/spinner:spinner/cpu warning")
	e.s.WaitListenerLog(t, "memguard", "cpu spinner:spinner: ", waitAction)
	// burst spun for 4s long ago and is idle now: measured, no incident.
	e.waitProc(t, "burst:burst", "idle", waitAction, func(p procStatus) bool { return p.Cores < 0.1 })
	e.waitRounds(t, 2)
	if e.hasIncident(t, "burst:burst/cpu") {
		t.Error("a short burst raised a CPU warning")
	}
	if e.s.ProcessPID(t, "spinner") != spinner {
		t.Error("the CPU warning restarted the spinner")
	}
}

// TestFileDescriptorsWarn: a strategy holding most of its own
// RLIMIT_NOFILE gets a warning naming how many of how many.
func TestFileDescriptorsWarn(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: program("feedh", "-nofile 128 -open-fds 110") + program("calm", "-nofile 128"), Memguard: `
host: {off: true}
fds:
  - processes: ["*"]
    max: 80%
`})
	e.waitIncident(t, host+"/feedh:feedh/fds warning")
	p := e.proc(t, "feedh:feedh")
	if p.FileLimit != 128 || p.OpenFiles < 110 {
		t.Errorf("feedh: %d of %d open files", p.OpenFiles, p.FileLimit)
	}
	e.s.WaitListenerLog(t, "memguard", "of 128 open files", waitAction)
	c := e.waitProc(t, "calm:calm", "read", waitAction, func(p procStatus) bool { return p.FileLimit == 128 })
	if c.OpenFiles > 20 || e.hasIncident(t, "calm:calm/fds") {
		t.Errorf("calm: %+v", c)
	}
}

// TestHostGuards: thresholds the machine is past (memory used above 1%,
// less than 1 PB free) raise the host's incidents: critical for memory, a
// warning naming the state store's file system for the disk.
func TestHostGuards(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: program("idle", ""), Memguard: `
host: {memory: 1%, min_free: 1000TB, cpu: 100%}
`})
	e.waitIncident(t, host+"/-/memory critical")
	e.waitIncident(t, host+"/-/disk/disk:"+e.s.Dir+" warning")
	e.s.WaitListenerLog(t, "memguard", "the state store is there", waitAction)
	s := e.status(t)
	if s.Host == nil || len(s.Host.Disks) == 0 || s.Host.Disks[0].Path != e.s.Dir || s.Host.Disks[0].Free <= 0 {
		t.Errorf("host status: %+v", s.Host)
	}
	if !strings.Contains(strings.Join(s.Host.Alerting, ","), "memory") {
		t.Errorf("host alerting %v", s.Host.Alerting)
	}
}
