package marketclock_test

import (
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// BenchmarkIdle: marketclock under a real supervisord with a six-phase
// day on XNYS, idle (it looks at the clock every second and publishes the
// session every minute): its RSS, anonymous memory and CPU per second,
// beside eventlog's, the smallest listener, in the same supervisord.
//
//	SUPERGUARD_SUPERVISORD=... go test -run '^$' -bench Idle -benchtime 1x ./integration/marketclock
//
// goal: idle-RSS-MB < 15
// versus: eventlog's idle RSS: eventlog-idle-RSS-MB
// goal: idle-cpu-ms/s < 5
// versus: eventlog's: eventlog-idle-cpu-ms/s
func BenchmarkIdle(b *testing.B) {
	s := harness.StartGuards(b, "bench", harness.Options{
		Sections: programs() + harness.Listener{Name: "eventlog", Command: `{{bin "./listeners/eventlog"}}`, Events: "TICK_60"}.Section(),
	}, harness.Guard{Name: "marketclock", Body: `exchange: XNYS
modes: {processes: ["strat:*"], via: signal, close_only: USR1, normal: USR2}
phases:
  - {name: connect, at: open - 15m, start: ["md:*"]}
  - {name: preopen, at: open - 5m, checks: {running: ["md:*"]}}
  - {name: open, at: open, requires: preopen, start: ["strat:*"], mode: normal}
  - {name: close-only, at: close - 10m, mode: close_only}
  - {name: snapshot, at: close, run: [{argv: [/bin/true]}]}
  - {name: stop, at: close + 30m, stop: ["strat:*", "md:*"]}
`})
	mc, el := s.ProcessPID(b, "marketclock"), s.ProcessPID(b, "eventlog")
	// Past the start-up: the first steps, the catch-up of the last days,
	// the first publication of the session.
	time.Sleep(5 * time.Second)
	for b.Loop() {
		const idle = 20 * time.Second
		mc0, el0 := testsupport.CPUTime(b, mc), testsupport.CPUTime(b, el)
		time.Sleep(idle)
		b.ReportMetric(float64((testsupport.CPUTime(b, mc)-mc0).Milliseconds())/idle.Seconds(), "idle-cpu-ms/s")
		b.ReportMetric(float64((testsupport.CPUTime(b, el)-el0).Milliseconds())/idle.Seconds(), "eventlog-idle-cpu-ms/s")
	}
	b.ReportMetric(testsupport.RSSKB(b, mc)/1024, "idle-RSS-MB")
	b.ReportMetric(testsupport.AnonKB(b, mc)/1024, "idle-anon-MB")
	b.ReportMetric(testsupport.RSSKB(b, el)/1024, "eventlog-idle-RSS-MB")
	if log := s.ReadListenerStderr("marketclock"); strings.Contains(log, `"level":"error"`) {
		b.Fatalf("marketclock logged an error while idle:\n%s", log)
	}
}
