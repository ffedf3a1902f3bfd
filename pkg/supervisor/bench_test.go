package supervisor_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/supervisor"
	"github.com/superguard/superguard/pkg/supervisor/supervisortest"
)

// BenchmarkGetState measures getState round trips over the unix socket to a
// real supervisord: ns/op is the mean latency, calls/s the throughput, and
// p50/p99 the latency percentiles.
func BenchmarkGetState(b *testing.B) {
	srv := supervisortest.Start(b, "")
	c := srv.Client(b)
	ctx := context.Background()
	if _, err := c.GetState(ctx); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.GetState(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, lat, elapsed)
}

// BenchmarkGetStateParallel is BenchmarkGetState with concurrent callers
// sharing one Client.
func BenchmarkGetStateParallel(b *testing.B) {
	srv := supervisortest.Start(b, "")
	c := srv.Client(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.GetState(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkGetAllProcessInfo measures getAllProcessInfo with 20 programs.
func BenchmarkGetAllProcessInfo(b *testing.B) {
	conf := ""
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"} {
		conf += "[program:" + n + "]\ncommand=sleep 1000\nstartsecs=0\n"
	}
	srv := supervisortest.Start(b, conf)
	srv.WaitProcessState(b, "t", supervisor.ProcessRunning)
	c := srv.Client(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		infos, err := c.GetAllProcessInfo(context.Background())
		if err != nil || len(infos) != 20 {
			b.Fatal(len(infos), err)
		}
	}
}

func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
