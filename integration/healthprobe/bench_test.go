package healthprobe_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// BenchmarkRound: 1,000 targets (numprocs=1000 sleeps under a real
// supervisord) whose /health answers after 200 ms, probed by healthprobe
// every TICK_5, with 256 (the default) and 1,000 probes in flight. It
// reports the median wall time of a round (dispatch to the last result;
// goal under 1 s), healthprobe's CPU per round and RSS (median and peak,
// sampled through the rounds; goal under 30 MB),
// and the p99 of event to ack under that load (goal under 5 ms), timed
// from outside on a second healthprobe driven through its pipes, and of the
// handler time the running one logs, with a REMOTE_COMMUNICATION event
// every 20 ms besides its ticks. Beside it, in the same supervisord, an httpok-like Python listener
// (testdata/httpok_like.py) probes one of the URLs the way httpok does,
// inside the event handler: its time per event is what supervisord waits,
// and httpok needs one process per URL (its RSS times 1,000).
//
//	SUPERGUARD_SUPERVISORD=... go test -run '^$' -bench Round -benchtime 1x ./integration/healthprobe
//
// Goals and comparisons for BENCHMARKS.md (scripts/benchreport):
//
// goal: round-ms < 1000
// versus: an httpok-like listener, 1,000 URLs one after another: httpok-like-s/1000-URLs
// goal: RSS-MB < 30
// versus: httpok-like listeners, one process per URL, for 1,000 URLs: httpok-like-RSS-GB/1000
// goal: ack-p99-ms < 5
// versus: what an httpok-like listener holds supervisord per event and URL: httpok-like-ms/URL
func BenchmarkRound(b *testing.B) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		b.Skip("needs /usr/bin/python3 for the httpok-like listener")
	}
	const targets = 1000
	const rounds = 6
	srv := slowServer(b, 200*time.Millisecond)
	for _, conc := range []int{256, 1000} { // 256: healthprobe's default
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			script, _ := filepath.Abs("testdata/httpok_like.py")
			s := harness.Start(b, harness.Options{
				Files: map[string]string{"superguard.yaml": benchYAML(srv, conc, "{{.URL}}")},
				// (A larger buffer: a thousand programs starting at once send two
				// thousand PROCESS_STATE events.)
				Sections: harness.Listener{Name: "healthprobe", Command: harness.ListenerCommand("healthprobe"), Events: "TICK_5,PROCESS_STATE,REMOTE_COMMUNICATION", BufferSize: 8192,
					Extra: []string{"environment=SUPERGUARD_LOG_LEVEL=debug"}}.Section() +
					harness.Listener{Name: "httpok", Command: "/usr/bin/python3 " + script + " http://" + srv + "/health/t_000 10",
						Events: "TICK_5"}.Section() + harness.Fleet("t", "/bin/sleep 3600", targets),
				StartTimeout: 2 * time.Minute,
			})
			e := &env{s: s}
			testsupport.WaitFor(b, 3*time.Minute, "every target healthy", func() bool {
				n := 0
				for _, t := range e.status(b).Targets {
					if t.State == "healthy" {
						n++
					}
				}
				return n == targets
			})
			pid := s.WaitProcessState(b, "healthprobe", 20, time.Minute).PID
			logPath := s.Path("healthprobe.err")
			mark := harness.FileSize(b, logPath)
			cpu0 := testsupport.CPUTime(b, pid)
			stop := make(chan struct{})
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
						_ = s.Client.SendRemoteCommEvent(b.Context(), "bench.noise", "x")
					}
				}
			}()
			b.ResetTimer()
			var took, rss []float64
			testsupport.WaitFor(b, time.Duration(rounds+4)*6*time.Second, fmt.Sprintf("%d rounds", rounds), func() bool {
				took = harness.LogValues(b, logPath, mark, `"message":"round probed"`, "took_ms")
				rss = append(rss, testsupport.RSSKB(b, pid)/1024)
				return len(took) >= rounds
			})
			b.StopTimer()
			close(stop)
			cpu := float64((testsupport.CPUTime(b, pid) - cpu0).Milliseconds()) / float64(len(took))
			handled := harness.LogValues(b, logPath, mark, `"message":"event handled"`, "took")
			py := pyTook(b, s.Path("httpok.err"))
			// Event to ack, timed from outside: the supervised healthprobe
			// is stopped, and a second one on the same targets and
			// supervisord, driven through its pipes, is sent a TICK_5 (each
			// one starts a round of 1,000 probes when none runs) and a
			// heartbeat in turn, in lockstep, for 10 s.
			if err := s.Client.StopProcess(b.Context(), "healthprobe", true); err != nil {
				b.Fatal(err)
			}
			hp := harness.StartPiped(b, "./listeners/healthprobe", benchYAML(srv, conc, s.URL), nil)
			var acks []float64
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
				d := hp.Send(b, hp.Event("TICK_5", fmt.Sprintf("when:%d", time.Now().Unix())))
				d += hp.Send(b, hp.Event("PROCESS_COMMUNICATION_STDOUT", "processname:t_001 groupname:t pid:1\nalive"))
				acks = append(acks, float64(d.Microseconds())/2000)
				time.Sleep(10 * time.Millisecond)
			}
			b.ReportMetric(testsupport.Percentile(acks, 99), "ack-p99-ms")
			b.ReportMetric(testsupport.Median(took), "round-ms")
			b.ReportMetric(cpu, "cpu-ms/round")
			b.ReportMetric(testsupport.Median(rss), "RSS-MB")
			b.ReportMetric(slices.Max(rss), "RSS-max-MB")
			b.ReportMetric(testsupport.Percentile(handled, 99), "handler-p99-ms")
			b.ReportMetric(testsupport.Median(py), "httpok-like-ms/URL")
			b.ReportMetric(testsupport.Median(py)*targets/1000, "httpok-like-s/1000-URLs")
			b.ReportMetric(testsupport.RSSKB(b, s.WaitProcessState(b, "httpok", 20, time.Minute).PID)*targets/1024/1024, "httpok-like-RSS-GB/1000")
		})
	}
}

func benchYAML(srv string, conc int, url string) string {
	return fmt.Sprintf(`host: bench
state_path: {{.Dir}}/state.db
supervisor:
  url: %s
sinks:
  - {name: log, type: log}
routes:
  - sinks: [log]
listeners:
  healthprobe:
    concurrency: %d
    checks:
      - {name: api, processes: ["t:*"], http: {url: "http://%s/health/%%(process_name)s"}, timeout: 2s, grace: 1s}
`, url, conc, srv)
}

// slowServer answers every request after delay.
func slowServer(b *testing.B, delay time.Duration) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(delay)
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// pyTook is the httpok-like listener's time per TICK event (ms).
func pyTook(b *testing.B, path string) []float64 {
	return harness.LogValues(b, path, 0, `"event": "TICK_5"`, "took_ms")
}
