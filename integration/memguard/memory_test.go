package memguard_test

import (
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
)

// TestOverLimitRestartsAfterHysteresis: a strategy that grows past its
// limit gets the warning step, then is restarted once it stayed above the
// limit for `for` consecutive samples (not at the first); the restart is
// recorded in the shared budget and the alert carries the evidence.
func TestOverLimitRestartsAfterHysteresis(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: program("leaky", "-grow-rate 2MiB -grow-limit 120MiB") + `
[group:trading]
programs=leaky
`, Memguard: `
budget: {max: 3, window: 1h, backoff: 1h, max_backoff: 1h}
limits:
  - processes: ["trading:*"]
    max: 64MiB
    warn: 40MiB
    for: 3
    leak: {off: true}
`})
	pid := e.s.ProcessPID(t, "trading:leaky")
	// The warning step first, while below the limit.
	e.waitProc(t, "trading:leaky", "warning step", waitAction, func(p procStatus) bool { return p.State == "warning" })
	e.waitIncident(t, host+"/trading:leaky/memory warning")
	if got := e.s.ProcessPID(t, "trading:leaky"); got != pid {
		t.Fatal("restarted at the warning step")
	}
	// Above the limit: counted, then restarted at the third sample.
	seen := e.waitProc(t, "trading:leaky", "one sample over", waitAction, func(p procStatus) bool { return p.Over >= 1 || p.PID != pid })
	if seen.PID == pid && seen.Over >= 3 {
		t.Fatalf("over %d without a restart", seen.Over)
	}
	e.s.WaitRestarted(t, "trading:leaky", pid, waitAction)
	p := e.waitProc(t, "trading:leaky", "restart recorded", waitAction, func(p procStatus) bool {
		return strings.Contains(p.LastAction, "restarted") && strings.Contains(p.LastAction, "1 of 3 restarts used")
	})
	if p.Restarts != "1 of 3 used" {
		t.Errorf("restarts %q", p.Restarts)
	}
	if n := harness.RestartsRecorded(t, e.store, "trading:leaky"); n != 1 {
		t.Errorf("restarts recorded = %d, want 1", n)
	}
	e.s.WaitListenerLog(t, "memguard", "above its limit 64 MiB for 3 samples", waitAction)
	// The outbox has the evidence: size, limit, measure, uptime.
	e.s.WaitListenerLog(t, "memguard", `"measure":"tree_rss"`, waitAction)
	e.s.WaitListenerLog(t, "memguard", `"limit":"64 MiB"`, waitAction)
	// A fast leak is restarted before the window's trend is ready: the
	// growth shown is the latest samples', and says so.
	e.s.WaitListenerLog(t, "memguard", `/h \(over the last `, waitAction)
}

// TestMostSpecificLimitWins: a catch-all limit, a group limit and a limit
// on one process of the group: each process gets the most specific one
// whatever the order in the file, and -check says which applies.
func TestMostSpecificLimitWins(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: program("mm", "-grow-rate 10MiB -grow-limit 70MiB") + program("arb", "-grow-rate 10MiB -grow-limit 70MiB") +
		program("cache", "-grow-rate 10MiB -grow-limit 70MiB") + `
[group:trading]
programs=mm,arb
`, Memguard: `
budget: {max: 5, window: 1h, backoff: 1h, max_backoff: 1h}
limits:
  - processes: ["trading:mm"]
    max: 1GiB
    leak: {off: true}
  - processes: [trading]
    max: 40MiB
    for: 2
    leak: {off: true}
  - processes: ["*"]
    max: 2GiB
    leak: {off: true}
`})
	mm, arb, cache := e.s.ProcessPID(t, "trading:mm"), e.s.ProcessPID(t, "trading:arb"), e.s.ProcessPID(t, "cache")
	e.s.WaitRestarted(t, "trading:arb", arb, waitAction)
	// mm and cache grew past 40 MiB as arb did, and sampled at least as
	// many times: wait for their status to show it, then two more rounds.
	for _, name := range []string{"trading:mm", "cache:cache"} {
		p := e.waitProc(t, name, "past 60 MiB", waitAction, func(p procStatus) bool { return p.Bytes > 60<<20 })
		if p.Over != 0 || p.State != "ok" {
			t.Errorf("%s: %+v: its own limit is not exceeded", name, p)
		}
	}
	e.waitRounds(t, 3)
	if e.s.ProcessPID(t, "trading:mm") != mm || e.s.ProcessPID(t, "cache") != cache {
		t.Error("a process under its own (more specific) limit was restarted")
	}
	for name, want := range map[string]string{"trading:mm": "limits[0]", "trading:arb": "limits[1]", "cache:cache": "limits[2]"} {
		if got := e.proc(t, name).Limit; got != want {
			t.Errorf("%s: limit %s, want %s", name, got, want)
		}
	}
	code, out := harness.RunBin(t, "./listeners/memguard", "-check", "-config", e.s.Path("superguard.yaml"))
	if code != 0 {
		t.Fatalf("-check: exit %d\n%s", code, out)
	}
	for name, want := range map[string][]string{
		"trading:mm":  {"tree_rss 1.0 GiB", "limits[0] by process"},
		"trading:arb": {"tree_rss 40 MiB", "2 samples", "limits[1] by group"},
		"cache:cache": {"tree_rss 2.0 GiB", "limits[2] by any process"},
	} {
		line := lineWith(out, name+" ")
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("-check: the line of %s lacks %q:\n%s", name, w, out)
			}
		}
	}
}

// lineWith is the first line of out starting with prefix.
func lineWith(out, prefix string) string {
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestTreeSumCountsChildren: a strategy small by itself whose children
// hold the memory is over a tree_rss limit and restarted; its children go
// with it. The same strategy under an rss limit is not.
func TestTreeSumCountsChildren(t *testing.T) {
	t.Parallel()
	args := "-children 2 -child-grow-rate 20MiB -child-grow-limit 40MiB"
	e := start(t, scenario{Programs: program("parent", args) + program("alone", args), Memguard: `
budget: {max: 3, window: 1h, backoff: 1h, max_backoff: 1h}
limits:
  - processes: [parent]
    max: 60MiB
    for: 2
    leak: {off: true}
  - processes: [alone]
    measure: rss
    max: 60MiB
    for: 2
    leak: {off: true}
`})
	pid, alone := e.s.ProcessPID(t, "parent"), e.s.ProcessPID(t, "alone")
	p := e.waitProc(t, "parent:parent", "two children counted", waitAction, func(p procStatus) bool {
		return p.Children == 2 || p.PID != pid
	})
	if p.PID == pid && p.TreeRSS <= p.RSS {
		t.Errorf("tree %d <= own %d", p.TreeRSS, p.RSS)
	}
	e.s.WaitRestarted(t, "parent", pid, waitAction)
	e.s.WaitListenerLog(t, "memguard", `"top_children":"`, waitAction)
	// alone has the same children, measured by its own RSS.
	a := e.proc(t, "alone:alone")
	if a.Bytes > 60<<20 || a.Measure != "rss" || a.Over != 0 {
		t.Errorf("alone: %+v: rss measures the process alone", a)
	}
	e.waitRounds(t, 3)
	if e.s.ProcessPID(t, "alone") != alone {
		t.Error("a process under its rss limit was restarted for its children")
	}
}

// TestLeakWarnsBeforeTheLimitNotForAPlateau: a steady leak gets a warning
// saying when it reaches the limit, long before it does (no restart); a
// process that grew and then plateaued gets none.
func TestLeakWarnsBeforeTheLimitNotForAPlateau(t *testing.T) {
	t.Parallel()
	e := start(t, scenario{Programs: program("slow", "-grow-rate 512KiB") + program("flat", "-grow-rate 8MiB -grow-limit 24MiB"), Memguard: `
limits:
  - processes: ["*"]
    max: 2GiB
    leak: {window: 60s, horizon: 24h}
`})
	slow := e.s.ProcessPID(t, "slow")
	e.waitIncident(t, host+"/slow:slow/leak warning")
	p := e.proc(t, "slow:slow")
	if !p.TrendReady || p.GrowthPerHour < 1<<30 || p.TimeToLimit == "" {
		t.Errorf("slow: %+v: want a growth of about 1.8 GiB/h and a time to the limit", p)
	}
	e.s.WaitListenerLog(t, "memguard", "memory leak slow:slow: tree RSS growing", waitAction)
	// The plateau: its trend is ready and flat, and it stays without a
	// leak incident.
	e.waitProc(t, "flat:flat", "a flat trend", waitAction, func(p procStatus) bool {
		return p.TrendReady && p.GrowthPerHour < 1<<20
	})
	e.waitRounds(t, 2)
	if e.hasIncident(t, "flat:flat/leak") {
		t.Error("a plateau was called a leak")
	}
	if e.s.ProcessPID(t, "slow") != slow {
		t.Error("the leak warning restarted the process")
	}
}

var _ = harness.Program{}
