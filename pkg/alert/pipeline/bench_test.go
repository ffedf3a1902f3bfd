package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
)

// reportLatencies reports the p50 and p99 of ds in milliseconds.
func reportLatencies(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[int(float64(len(ds)-1)*p)]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// benchPipeline is a pipeline on a real clock over a fresh store, logging
// nowhere.
func benchPipeline(b *testing.B) *Pipeline {
	b.Setenv("SG_TEST_PD", canaryPD)
	b.Setenv("SG_TEST_HOOK", canaryHook)
	p, _ := realPipeline(b, filepath.Join(b.TempDir(), "state.db"), &testsupport.SyncBuffer{})
	b.Cleanup(func() { p.store.Close() })
	return p
}

// BenchmarkSubmit measures one durable Submit (ledger update plus outbox
// rows, committed): its p50/p99 latency (goal: p99 < 5 ms) and the
// sustained rate from one goroutine (goal: >= 1000/s). Keys cycle over 100
// programs, so new incidents, absorbed repeats and repeat notifications
// all occur.
//
// goal: p99-ms < 5
// goal: submits/s >= 1000
func BenchmarkSubmit(b *testing.B) {
	p := benchPipeline(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := exit("g", fmt.Sprintf("p%d", i%100), alert.Error)
		a.SourceID = fmt.Sprintf("sv/pool/%d", i)
		start := time.Now()
		if err := p.Submit(ctx, &a); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
	reportLatencies(b, lat)
}

// BenchmarkSubmitParallel measures sustained submits/s with several
// goroutines submitting at once, as several handlers of one listener would.
func BenchmarkSubmitParallel(b *testing.B) {
	p := benchPipeline(b)
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			a := exit("g", fmt.Sprintf("p%d", i%100), alert.Error)
			a.SourceID = fmt.Sprintf("sv/pool/%d", i)
			if err := p.Submit(context.Background(), &a); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
}

// BenchmarkDeliveryLatency measures the time from Submit to the healthy
// sink's Notify call (goal: well under 1 s).
//
// goal: p99-ms < 1000
func BenchmarkDeliveryLatency(b *testing.B) {
	b.Setenv("SG_TEST_PD", canaryPD)
	b.Setenv("SG_TEST_HOOK", canaryHook)
	p, fakes := realPipeline(b, filepath.Join(b.TempDir(), "state.db"), &testsupport.SyncBuffer{})
	got := make(chan struct{}, 1)
	fakes["slack"].SetHook(func(context.Context, *alert.Notification) (alert.Receipt, error) {
		got <- struct{}{}
		return alert.Receipt{}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	defer func() { cancel(); <-done; p.store.Close() }()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := exit("g", fmt.Sprintf("p%d", i), alert.Error) // a new incident: notified at once
		start := time.Now()
		if err := p.Submit(ctx, &a); err != nil {
			b.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			b.Fatal("not delivered within 10s")
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatencies(b, lat)
}
