package main

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/probe"
	"github.com/superguard/superguard/pkg/supervisor"
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

// TestHeartbeatTTLCountsFromWatching: after a healthprobe restart, a
// program up for hours gets a full TTL to be heard before its heartbeat
// check fails (the TTL never counts from before healthprobe watched it).
func TestHeartbeatTTLCountsFromWatching(t *testing.T) {
	now := time.Now()
	c := sections.ProbeCheck{Name: "hb", Heartbeat: &sections.HeartbeatCheck{Channel: "notify", TTL: 10 * time.Second}, Grace: 30 * time.Second}
	tg := &target{check: &check{cfg: c}, watched: now}
	tg.reset(now.Add(-3 * time.Hour))
	e := &engine{}
	if r := e.heartbeatResult(tg, beatState{}, now.Add(5*time.Second)); !r.OK {
		t.Errorf("5s after watching began: %q", r.Evidence)
	}
	if r := e.heartbeatResult(tg, beatState{}, now.Add(11*time.Second)); r.OK || r.Evidence != "no heartbeat since healthprobe started watching 11s ago (ttl 10s)" {
		t.Errorf("after the TTL: ok %v %q", r.OK, r.Evidence)
	}
	if r := e.heartbeatResult(tg, beatState{last: now.Add(8 * time.Second)}, now.Add(15*time.Second)); !r.OK {
		t.Errorf("a recent heartbeat: %q", r.Evidence)
	}
	if r := e.heartbeatResult(tg, beatState{last: now, ttl: 2 * time.Second}, now.Add(3*time.Second)); r.OK {
		t.Errorf("WATCHDOG_USEC=2s not honoured: %q", r.Evidence)
	}
}

// recordingAlerts keeps what was submitted.
type recordingAlerts struct {
	got testsupport.Recorder[*alert.Alert]
}

func (r *recordingAlerts) Submit(_ context.Context, a *alert.Alert) error {
	r.got.Add(a)
	return nil
}

// TestRemovedProcessResolvesItsIncident: a process that disappears from
// supervisord while its check is failing gets its incident resolved, not
// left open for ever.
func TestRemovedProcessResolvesItsIncident(t *testing.T) {
	rec := &recordingAlerts{}
	e := &engine{log: zerolog.Nop(), alerts: rec, redact: func(s string) string { return s }, now: time.Now, host: "h",
		bg: context.Background(), targets: map[string]*target{}, beats: map[string]*beat{}}
	c := &check{cfg: sections.ProbeCheck{Name: "api", Failures: 1, Within: 1, Successes: 1}, cond: alert.CondHealth, prober: &probe.TCP{}}
	tg := &target{check: c, proc: probe.Process{Group: "g", Name: "gone"}, open: true}
	e.targets[tg.key()] = tg
	e.mu.Lock()
	e.syncTargets(nil, time.Now())
	e.mu.Unlock()
	e.wg.Wait()
	got := rec.got.All()
	if len(got) != 1 || got[0].Kind != alert.Resolve || got[0].Key != "h/g:gone/health/api" {
		t.Fatalf("alerts %+v: want one resolve of h/g:gone/health/api", got)
	}
	if len(e.targets) != 0 {
		t.Errorf("target kept: %v", e.targets)
	}
}

// TestProbeKeepsToTheTick: rounds run on TICK_5 events whose delivery
// wanders by milliseconds; a probe every 5s runs on every tick, early or
// late, and one every 10s on every other tick, never a tick late.
func TestProbeKeepsToTheTick(t *testing.T) {
	e := &engine{log: zerolog.Nop(), redact: func(s string) string { return s }, now: time.Now,
		bg: context.Background(), targets: map[string]*target{}, beats: map[string]*beat{}}
	t0 := time.Date(2026, 12, 3, 17, 0, 0, 400e6, time.UTC)
	info := supervisor.ProcessInfo{Group: "g", Name: "p", State: supervisor.ProcessRunning, PID: 7}
	ms := time.Millisecond
	tests := []struct {
		every  time.Duration
		rounds []time.Duration // offsets from t0
		want   []bool
	}{
		{5 * time.Second, []time.Duration{0, 5*time.Second - 30*ms, 10*time.Second + 20*ms, 15*time.Second - 40*ms, 15*time.Second + 900*ms},
			[]bool{true, true, true, true, false}},
		{10 * time.Second, []time.Duration{0, 5*time.Second - 30*ms, 10*time.Second - 30*ms, 15 * time.Second, 20*time.Second - 10*ms},
			[]bool{true, false, true, false, true}},
	}
	for _, tt := range tests {
		c := &check{cfg: sections.ProbeCheck{Name: "api", Every: tt.every, Failures: 1, Within: 1, Successes: 1}, cond: alert.CondHealth, prober: &probe.TCP{}}
		tg := &target{check: c, proc: probe.Process{Group: "g", Name: "p"}, start: t0.Add(-time.Hour)}
		for i, off := range tt.rounds {
			got := e.evaluate(tg, info, &beat{}, t0.Add(off))
			tg.probing = false // the probe finished
			if got != tt.want[i] {
				t.Errorf("every %s, round at +%s: due %v, want %v", tt.every, off, got, tt.want[i])
			}
		}
	}
}

// procSup is supervisord answering getProcessInfo with info.
type procSup struct {
	governor.Supervisor
	info supervisor.ProcessInfo
	err  error
}

func (s procSup) GetProcessInfo(context.Context, string) (supervisor.ProcessInfo, error) {
	return s.info, s.err
}

type failingProber struct{ probe.TCP }

func (*failingProber) Probe(context.Context, probe.Process) probe.Result {
	return probe.Result{Evidence: "connection refused"}
}

// TestFailedProbeOfAStoppingProcessIsNotCounted: a probe that fails while
// the process is being stopped (memguard restarting it in the same tick)
// does not count against it; one that fails while it still runs does, and
// so does one whose process supervisord cannot be asked about.
func TestFailedProbeOfAStoppingProcessIsNotCounted(t *testing.T) {
	tests := []struct {
		name string
		sup  procSup
		want int
	}{
		{"stopping", procSup{info: supervisor.ProcessInfo{Group: "g", Name: "p", State: supervisor.ProcessStopping, PID: 7}}, 0},
		{"restarted", procSup{info: supervisor.ProcessInfo{Group: "g", Name: "p", State: supervisor.ProcessRunning, PID: 8}}, 0},
		{"still running", procSup{info: supervisor.ProcessInfo{Group: "g", Name: "p", State: supervisor.ProcessRunning, PID: 7}}, 1},
		{"supervisord silent", procSup{err: context.DeadlineExceeded}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &engine{log: zerolog.Nop(), sup: tt.sup, redact: func(s string) string { return s }, now: time.Now,
				bg: context.Background(), targets: map[string]*target{}, beats: map[string]*beat{}, sem: make(chan struct{}, 1)}
			c := &check{cfg: sections.ProbeCheck{Name: "api", Every: 5 * time.Second, Timeout: time.Second, Failures: 3, Within: 3, Successes: 1},
				cond: alert.CondHealth, prober: &failingProber{}}
			tg := &target{check: c, proc: probe.Process{Group: "g", Name: "p", PID: 7}}
			tg.reset(time.Now())
			e.targets[tg.key()] = tg
			tg.probing = true
			e.dispatch(tg, tg.gen, &roundDone{start: time.Now(), left: 1, log: zerolog.Nop(), n: 1})
			e.wg.Wait()
			if got := tg.failures(); got != tt.want || tg.probing {
				t.Errorf("failures counted %d (probing %v), want %d", got, tg.probing, tt.want)
			}
		})
	}
}
