package exporter_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// BenchmarkScrape: 500 supervised processes (numprocs=500 sleeps under a
// real supervisord) exported by the exporter under supervisord. It
// reports a scrape's median and p99 wall time (an HTTP GET of /metrics
// from this process; goal under 10 ms) and the exporter's CPU per scrape;
// beside it, in the same run, what a polling exporter pays on every
// scrape: one getAllProcessInfo round trip to the same supervisord (wall
// time, and supervisord's CPU per call). Then the p99 of event to ack
// (goal under 5 ms), timed from outside on a second exporter driven
// through its pipes while a goroutine scrapes it without pause, and the
// idle RSS of the supervised one (goal under 15 MB).
//
//	SUPERGUARD_SUPERVISORD=... go test -run '^$' -bench Scrape -benchtime 1x ./integration/exporter
//
// goal: scrape-ms < 10
// versus: a polling exporter's getAllProcessInfo per scrape: getAllProcessInfo-ms
// versus: supervisord's CPU for that call: supervisord-cpu-ms/getAllProcessInfo
// goal: ack-p99-ms < 5
// versus: without the events-state file (a write per event): ack-p99-no-events-state-ms
// goal: idle-RSS-MB < 15
func BenchmarkScrape(b *testing.B) {
	const procs = 500
	const scrapes = 200
	s := harness.StartGuards(b, "bench", harness.Options{Sections: harness.Fleet("t", "/bin/sleep 3600", procs), StartTimeout: 2 * time.Minute},
		harness.Guard{Name: "exporter", BufferSize: 4096, Body: "listen: {{.ExporterListen}}\n"})
	addr := readListen(b, s)
	url := "http://" + addr + "/metrics"
	testsupport.WaitFor(b, 2*time.Minute, "every process exported and RUNNING", func() bool {
		fams, err := scrape(b, url)
		if err != nil {
			return false
		}
		n := 0
		for _, m := range fams["supervisor_process_info"].GetMetric() {
			for _, l := range m.Label {
				if l.GetName() == "state" && l.GetValue() == "RUNNING" {
					n++
				}
			}
		}
		return n >= procs
	})
	pid := s.WaitProcessState(b, "exporter", supervisor.ProcessRunning, time.Minute).PID
	client := &http.Client{Timeout: 10 * time.Second}
	get := func() time.Duration {
		t0 := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(t0)
	}
	get() // warm
	var took []float64
	cpu0 := testsupport.CPUTime(b, pid)
	b.ResetTimer()
	for range scrapes {
		took = append(took, float64(get().Microseconds())/1000)
	}
	b.StopTimer()
	cpu := float64((testsupport.CPUTime(b, pid) - cpu0).Microseconds()) / 1000 / scrapes
	// A polling exporter's scrape: getAllProcessInfo from supervisord.
	supPID, err := s.Client.GetPID(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	var poll []float64
	scpu0 := testsupport.CPUTime(b, supPID)
	for range scrapes / 4 {
		t0 := time.Now()
		if _, err := s.Client.GetAllProcessInfo(b.Context()); err != nil {
			b.Fatal(err)
		}
		poll = append(poll, float64(time.Since(t0).Microseconds())/1000)
	}
	scpu := float64((testsupport.CPUTime(b, supPID) - scpu0).Microseconds()) / 1000 / float64(len(poll))
	time.Sleep(6 * time.Second) // idle: past a TICK_5 refresh
	rss := testsupport.RSSKB(b, pid) / 1024
	anon := testsupport.AnonKB(b, pid) / 1024

	// Event to ack while scraped without pause: a second exporter on the
	// same supervisord, driven through its pipes.
	if err := s.Client.StopProcess(b.Context(), "exporter", true); err != nil {
		b.Fatal(err)
	}
	acks, during := acksWhileScraped(b, s.URL, procs, nil)
	acksMem, _ := acksWhileScraped(b, s.URL, procs, []string{"-events-state", "none"})
	b.ReportMetric(testsupport.Median(took), "scrape-ms")
	b.ReportMetric(testsupport.Percentile(took, 99), "scrape-p99-ms")
	b.ReportMetric(cpu, "cpu-ms/scrape")
	b.ReportMetric(testsupport.Median(poll), "getAllProcessInfo-ms")
	b.ReportMetric(scpu, "supervisord-cpu-ms/getAllProcessInfo")
	b.ReportMetric(testsupport.Percentile(acks, 99), "ack-p99-ms")
	b.ReportMetric(testsupport.Median(acks), "ack-median-ms")
	b.ReportMetric(float64(during), "scrapes-during-acks")
	b.ReportMetric(testsupport.Percentile(acksMem, 99), "ack-p99-no-events-state-ms")
	b.ReportMetric(rss, "idle-RSS-MB")
	b.ReportMetric(anon, "idle-anon-MB")
}

// readListen is the exporter's address from its ready log line.
func readListen(b *testing.B, s *harness.Supervisord) string {
	line := s.WaitListenerLog(b, "exporter", `"message":"exporter ready"`, time.Minute)
	const key = `"listen":"`
	i := indexOf(line, key)
	if i < 0 {
		b.Fatalf("no listen in %s", line)
	}
	rest := line[i+len(key):]
	return rest[:indexOf(rest, `"`)]
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// acksWhileScraped starts an exporter on supervisord url driven through its
// pipes (with args), scrapes it without pause from a goroutine, and sends
// it 600 pairs of PROCESS_STATE events over ~3 s: each pair's time to ack
// (halved), and how many scrapes answered meanwhile.
func acksWhileScraped(b *testing.B, url string, procs int, args []string) ([]float64, int64) {
	port := harness.FreePort(b)
	ex := harness.StartPiped(b, "./listeners/exporter", "host: bench\nstate_path: {{.Dir}}/state.db\nsupervisor:\n  url: "+url+
		"\nlisteners:\n  exporter:\n    listen: 127.0.0.1:"+port+"\n", args)
	purl := "http://127.0.0.1:" + port + "/metrics"
	client := &http.Client{Timeout: 10 * time.Second}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var during atomic.Int64
	wg.Go(func() {
		for !stop.Load() {
			if resp, err := client.Get(purl); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				during.Add(1)
			}
		}
	})
	var acks []float64
	for i := range 600 {
		name := fmt.Sprintf("t_%03d", i%procs)
		d := ex.Send(b, ex.Event("PROCESS_STATE_EXITED", fmt.Sprintf("processname:%s groupname:t from_state:RUNNING expected:0 pid:%d", name, 100000+i)))
		d += ex.Send(b, ex.Event("PROCESS_STATE_RUNNING", fmt.Sprintf("processname:%s groupname:t from_state:STARTING pid:%d", name, 200000+i)))
		acks = append(acks, float64(d.Microseconds())/2000)
		time.Sleep(5 * time.Millisecond) // spread over ~3 s of scrapes
	}
	stop.Store(true)
	wg.Wait()
	return acks, during.Load()
}
