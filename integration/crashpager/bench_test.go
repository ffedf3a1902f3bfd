package crashpager_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
)

// The benchmarks drive the crashpager binary the way supervisord does:
// through its stdin and stdout, one event at a time (lockstep), measuring
// from the first byte of an event to the end of its acknowledgement. Every
// event is an unexpected EXITED, so every ack waits for a durable commit of
// the alert to the state store.
//
//	go test -run '^$' -bench . -benchtime 2000x ./integration/crashpager

// exited returns an unexpected-EXITED event for program, as supervisord
// frames it.
func exited(c *harness.Piped, program string) []byte {
	return c.Event("PROCESS_STATE_EXITED", fmt.Sprintf("processname:%s groupname:%s from_state:RUNNING expected:0 pid:%d",
		program, program, 1001+c.Serial()))
}

// startChild starts crashpager on yaml, driven through pipes.
func startChild(b *testing.B, yaml string, env ...string) *harness.Piped {
	b.Helper()
	return harness.StartPiped(b, "./listeners/crashpager", yaml, nil, env...)
}

// reportLatencies reports p50 and p99 of ds in milliseconds.
func reportLatencies(b *testing.B, ds []time.Duration, prefix string) {
	b.Helper()
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), prefix+"p50-ms")
	b.ReportMetric(pct(0.99), prefix+"p99-ms")
}

// logOnly is a config whose alerts go to the log sink (the default when no
// sink is configured) and never form a spree, so each EXITED costs one
// durable commit.
const logOnly = `host: bench
state_path: {{.Dir}}/state.db
listeners:
  crashpager: {spree_threshold: 1000000}
`

// BenchmarkEventToAck measures event-to-ack latency with the durable
// commit (goal: p99 under 5 ms) and the sustained rate of alerting events
// a crashpager acknowledges in lockstep (goal: at least 1,000/s), without
// a supervisord to ask for details (pure listener cost) and with a real one
// answering the detail calls (getProcessInfo, tailProcessStderrLog,
// readLog) made before the ack.
//
// goal: ack-p99-ms < 5
// goal: events/s >= 1000
func BenchmarkEventToAck(b *testing.B) {
	b.Run("no-supervisord", func(b *testing.B) {
		c := startChild(b, logOnly)
		benchExits(b, c)
	})
	b.Run("supervisord", func(b *testing.B) {
		var progs strings.Builder
		for i := range 10 {
			fmt.Fprintf(&progs, "[program:p%d]\ncommand=/bin/sleep 1000\nstderr_logfile={{.Dir}}/p%d.err\n\n", i, i)
		}
		s := harness.Start(b, harness.Options{Sections: progs.String()})
		c := startChild(b, logOnly, "SUPERVISOR_SERVER_URL="+s.URL)
		benchExits(b, c)
	})
}

func benchExits(b *testing.B, c *harness.Piped) {
	for i := range 20 { // warm up: first incidents, connections, caches
		c.Send(b, exited(c, "p"+strconv.Itoa(i%10)))
	}
	var lat []time.Duration
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		lat = append(lat, c.Send(b, exited(c, "p"+strconv.Itoa(i%10))))
	}
	elapsed := time.Since(start)
	reportLatencies(b, lat, "ack-")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "events/s")
}

// BenchmarkDeliveryLatency measures the time from an event reaching
// crashpager to the sink's HTTP request, with a healthy sink (goal: under
// 1 s). Every event is a new program's first crash, so every one notifies.
//
// goal: delivery-p99-ms < 1000
func BenchmarkDeliveryLatency(b *testing.B) {
	var (
		mu      sync.Mutex
		arrived = map[string]time.Time{}
		signal  = make(chan struct{}, 1)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		if i := bytes.Index(body, []byte("bench-")); i >= 0 {
			j := i + bytes.IndexAny(body[i:], ": \"")
			mu.Lock()
			if _, seen := arrived[string(body[i:j])]; !seen {
				arrived[string(body[i:j])] = now
			}
			mu.Unlock()
			select {
			case signal <- struct{}{}:
			default:
			}
		}
		_, _ = w.Write([]byte("ok"))
	}))
	b.Cleanup(srv.Close)
	c := startChild(b, `host: bench
state_path: {{.Dir}}/state.db
sinks:
  - {name: slack, type: slack, webhook_url_env: SLACK_URL, rate: 0}
routes:
  - sinks: [slack]
listeners:
  crashpager: {spree_threshold: 1000000}
`, "SLACK_URL="+srv.URL+"/services/T000/B000/benchsecret")
	var lat []time.Duration
	wait := func(name string, sent time.Time) {
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			at, ok := arrived[name]
			mu.Unlock()
			if ok {
				lat = append(lat, at.Sub(sent))
				return
			}
			select {
			case <-signal:
			case <-deadline:
				b.Fatalf("no sink request for %s within 10s", name)
			}
		}
	}
	c.Send(b, exited(c, "bench-warmup"))
	wait("bench-warmup", time.Now().Add(-time.Second))
	lat = lat[:0]
	for i := 0; b.Loop(); i++ {
		name := "bench-" + strconv.Itoa(i)
		sent := time.Now()
		c.Send(b, exited(c, name))
		wait(name, sent)
	}
	reportLatencies(b, lat, "delivery-")
}

// BenchmarkIdleRSS reports the resident memory of an idle crashpager once
// it is READY and its senders run (goal: under 15 MB): the peak of VmRSS
// sampled every iteration, for half a second at least.
//
// goal: RSS-MB < 15
func BenchmarkIdleRSS(b *testing.B) {
	c := startChild(b, logOnly)
	pid := c.Cmd.Process.Pid
	var peak int64
	start := time.Now()
	for b.Loop() {
		kb, err := vmRSS(pid)
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, kb)
	}
	for time.Since(start) < 500*time.Millisecond { // senders started, first polls done
		time.Sleep(50 * time.Millisecond)
		kb, err := vmRSS(pid)
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, kb)
	}
	b.ReportMetric(float64(peak)/1024, "RSS-MB")
}

// vmRSS reads VmRSS of pid from /proc, in kB.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
