package main

import (
	"testing"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/probe"
)

func newTarget(failures, within, successes int) *target {
	c := sections.ProbeCheck{Name: "c", Failures: failures, Within: within, Successes: successes, Policy: "restart"}
	t := &target{check: &check{cfg: c}}
	t.reset(time.Now())
	return t
}

func results(t *target, oks ...bool) (failedAt, recoveredAt int) {
	failedAt, recoveredAt = -1, -1
	for i, ok := range oks {
		f, r := t.record(probe.Result{OK: ok})
		if f && failedAt < 0 {
			failedAt = i
		}
		if r && recoveredAt < 0 {
			recoveredAt = i
		}
	}
	return failedAt, recoveredAt
}

func TestConsecutiveFailuresAndRecovery(t *testing.T) {
	tg := newTarget(3, 3, 2)
	// One pass in between starts the count over: Nomad's flapping blind
	// spot is kept for the consecutive form only.
	if f, _ := results(tg, false, false, true, false, false); f >= 0 {
		t.Fatalf("failed at %d with no 3 in a row", f)
	}
	if f, _ := results(tg, false); f != 0 || !tg.open {
		t.Fatalf("third consecutive failure did not fail the check (open %v)", tg.open)
	}
	// One pass is not enough to recover with successes 2.
	if _, r := results(tg, true, false, true, true); r != 3 {
		t.Errorf("recovered at %d, want on the second consecutive pass (index 3)", r)
	}
	if tg.open || tg.state != StateHealthy {
		t.Errorf("after recovery: open %v state %s", tg.open, tg.state)
	}
}

func TestFailuresWithinProbesCatchFlapping(t *testing.T) {
	tg := newTarget(3, 6, 1)
	if f, _ := results(tg, false, true, false, true, false); f != 4 {
		t.Errorf("alternating pass/fail failed at %d, want at the third failure (index 4)", f)
	}
	if tg.trigger() != "3 of the last 6 probes failed: " {
		t.Errorf("trigger %q", tg.trigger())
	}
}

func TestResetStartsOver(t *testing.T) {
	tg := newTarget(2, 2, 1)
	results(tg, false)
	gen := tg.gen
	tg.reset(time.Now())
	if f, _ := results(tg, false); f >= 0 || tg.gen != gen+1 {
		t.Errorf("a new incarnation kept the old failure (failed %d, gen %d)", f, tg.gen)
	}
}
