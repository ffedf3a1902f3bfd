package main

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/halt/halttest"
)

func TestDeathWatchNudgesWhenAProcessDies(t *testing.T) {
	tests := []struct {
		name       string
		settle     bool // the process settles after the first nudge
		wantNudges func(n int) bool
	}{
		{name: "nudges on the schedule", wantNudges: func(n int) bool { return n == 4 }},
		{name: "stops nudging once settled", settle: true, wantNudges: func(n int) bool { return n >= 1 && n < 4 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("sleep", "60")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			sup := halttest.NewSupervisor()
			d := newDeathWatch(sup, zerolog.Nop())
			d.nudgeWait = []time.Duration{time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
			ctx, cancel := context.WithCancel(context.Background())
			defer func() { cancel(); d.wait() }()

			d.observe(ctx, "risk:rm", cmd.Process.Pid)
			d.observe(ctx, "risk:rm", cmd.Process.Pid) // the same pid again: one watch
			nudges := sup.StateCalls
			time.Sleep(50 * time.Millisecond)
			if n := nudges(); n != 0 {
				t.Fatalf("%d nudges while the process lives", n)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			halttest.Eventually(t, "the first nudge", func() bool { return nudges() >= 1 })
			if tt.settle {
				d.settle("risk:rm")
			}
			time.Sleep(500 * time.Millisecond) // past the last scheduled nudge
			if n := nudges(); !tt.wantNudges(n) {
				t.Errorf("%d nudges", n)
			}
		})
	}
}

func TestDeathWatchReplacesAnOlderPid(t *testing.T) {
	older := exec.Command("sleep", "60")
	newer := exec.Command("sleep", "60")
	for _, c := range []*exec.Cmd{older, newer} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	}
	sup := halttest.NewSupervisor()
	d := newDeathWatch(sup, zerolog.Nop())
	d.nudgeWait = []time.Duration{time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); d.wait() }()

	d.observe(ctx, "risk:rm", older.Process.Pid)
	d.observe(ctx, "risk:rm", newer.Process.Pid) // restarted: the old pid is no longer watched
	_ = older.Process.Kill()
	_ = older.Wait()
	time.Sleep(300 * time.Millisecond)
	if n := sup.StateCalls(); n != 0 {
		t.Errorf("%d nudges for the death of a replaced pid", n)
	}
	_ = newer.Process.Kill()
	_ = newer.Wait()
	halttest.Eventually(t, "a nudge for the watched pid", func() bool {
		return sup.StateCalls() == 1
	})
}
