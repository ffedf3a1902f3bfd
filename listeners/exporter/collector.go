package main

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// states are supervisord's process states, one series each in
// supervisor_process_state (node_exporter's systemd style).
var states = []string{"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"}

// haltBuckets are the halt latency histogram's bounds, in seconds: the
// kill switch takes 20-60 ms, a slow stop seconds.
var haltBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descUp        = desc("supervisord_up", "1 when supervisord answered the exporter's last read of its processes (getAllProcessInfo), else 0.")
	descRead      = desc("superguard_exporter_last_read_timestamp_seconds", "When the exporter last read supervisord's processes and the state store.")
	descStoreUp   = desc("superguard_state_store_up", "1 when the exporter's last read of the state store succeeded.")
	descLatched   = desc("superguard_halt_latched", "1 while the kill switch is latched (trading halted), 0 when clear; absent when no haltguard is configured. A latch file that cannot be read counts as latched.")
	descHalts     = desc("superguard_halts_total", "Halts latched, by trigger: process (a critical program failed), operator (haltguard halt) or remote (another listener).", "trigger")
	descLatency   = desc("superguard_halt_duration_seconds", "Time from a halt latched to the halt carried out (every target stopped and verified).")
	descOutbox    = desc("superguard_outbox_deliveries", "Alert deliveries held in the outbox, by sink and status (pending, sending, sent, dead, cancelled).", "sink", "status")
	descOldest    = desc("superguard_outbox_oldest_pending_age_seconds", "Age of the oldest delivery not yet sent, by sink (0: none queued).", "sink")
	descBeat      = desc("superguard_listener_heartbeat_timestamp_seconds", "When each listener last recorded a heartbeat (the last TICK it handled), as a Unix time.", "listener")
	descBeatAge   = desc("superguard_listener_heartbeat_age_seconds", "Seconds since each listener's last heartbeat, at the exporter's last read.", "listener")
	descDropped   = desc("superguard_events_dropped_total", "Events supervisord dropped before they reached each listener (poolserial gaps): its buffer overflowed.", "listener")
	descProbeUp   = desc("superguard_probe_success", "1 when healthprobe's last probe of the check on the process passed.", "check", "kind", "process")
	descProbeDur  = desc("superguard_probe_duration_seconds", "Duration of healthprobe's last probe of the check on the process.", "check", "kind", "process")
	descProbeFail = desc("superguard_probe_failures", "Failed probes of the check on the process within its window.", "check", "kind", "process")
	descProbeAge  = desc("superguard_probe_data_age_seconds", "Age of the data timestamp, file or heartbeat healthprobe's last probe of the check saw (staleness and heartbeat checks).", "check", "kind", "process")
	descBudget    = desc("superguard_restart_budget_remaining", "Restarts the shared restart governor still allows the process in its window, as the listener that watches it last saw (once it asked the governor).", "listener", "process")
	descMem       = desc("superguard_memory_bytes", "The process's memory by memguard's measure for its limit.", "process", "measure")
	descMemLimit  = desc("superguard_memory_limit_bytes", "The process's memory limit (memguard restarts above it).", "process")
	descMemTTL    = desc("superguard_memory_time_to_limit_seconds", "memguard's estimate of when the process's memory trend reaches its limit (absent: no trend towards it).", "process")
)

// collector serves the latest guard snapshot (Collect) and the model's
// processes (processFamilies). It reads memory only: a scrape never calls
// supervisord or the store.
type collector struct {
	m     *model
	up    atomic.Bool
	guard atomic.Pointer[guardSnapshot]
	// kill is whether a haltguard section exists (superguard_halt_latched
	// is served).
	kill   bool
	now    func() time.Time
	labels labelCache
}

// allDescs are every metric the collector may serve.
var allDescs = []*prometheus.Desc{
	descUp, descRead, descStoreUp, descLatched, descHalts, descLatency, descOutbox, descOldest, descBeat, descBeatAge, descDropped,
	descProbeUp, descProbeDur, descProbeFail, descProbeAge, descBudget, descMem, descMemLimit, descMemTTL,
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) { c.describe(ch) }

func (*collector) describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descUp, b2f(c.up.Load()))
	g := c.guard.Load()
	if g == nil {
		return
	}
	gauge(descRead, float64(g.at.UnixMilli())/1000)
	gauge(descStoreUp, b2f(g.storeOK))
	if c.kill {
		gauge(descLatched, b2f(g.latched || !g.latchKnown))
	}
	if g.storeOK {
		for _, t := range []string{"process", "operator", "remote"} {
			counter(descHalts, float64(g.halts[t]), t)
		}
		buckets := map[float64]uint64{}
		sum := 0.0
		for _, b := range haltBuckets {
			for _, l := range g.latency {
				if l <= b {
					buckets[b]++
				}
			}
		}
		for _, l := range g.latency {
			sum += l
		}
		ch <- prometheus.MustNewConstHistogram(descLatency, uint64(len(g.latency)), sum, buckets)
		for k, n := range g.outbox {
			gauge(descOutbox, float64(n), k[0], k[1])
		}
		for sink, age := range g.oldestQueued {
			gauge(descOldest, age.Seconds(), sink)
		}
		for _, hb := range g.heartbeats {
			gauge(descBeat, float64(hb.UpdatedAt.UnixMilli())/1000, hb.Listener)
			gauge(descBeatAge, max(0, g.at.Sub(hb.UpdatedAt).Seconds()), hb.Listener)
			counter(descDropped, float64(hb.Dropped), hb.Listener)
		}
	}
	for _, p := range g.probes {
		if p.Probed == "" {
			continue
		}
		gauge(descProbeUp, b2f(p.LastOK), p.Check, p.Kind, p.Process)
		gauge(descProbeFail, float64(p.Failures), p.Check, p.Kind, p.Process)
		if d, err := time.ParseDuration(p.Latency); err == nil {
			gauge(descProbeDur, d.Seconds(), p.Check, p.Kind, p.Process)
		}
		if p.Age != nil {
			gauge(descProbeAge, *p.Age, p.Check, p.Kind, p.Process)
		}
	}
	budgets := map[[2]string]float64{}
	for _, p := range g.probes {
		if p.Max > 0 {
			budgets[[2]string{"healthprobe", p.Process}] = float64(max(p.Max-p.Used, 0))
		}
	}
	for _, m := range g.memory {
		if m.Max > 0 {
			budgets[[2]string{"memguard", m.Process}] = float64(max(m.Max-m.Used, 0))
		}
	}
	for k, v := range budgets {
		gauge(descBudget, v, k[0], k[1])
	}
	for _, m := range g.memory {
		if m.MaxBytes <= 0 {
			continue
		}
		gauge(descMem, float64(m.Bytes), m.Process, m.Measure)
		gauge(descMemLimit, float64(m.MaxBytes), m.Process)
		if d, err := time.ParseDuration(m.TimeToLimit); err == nil {
			gauge(descMemTTL, d.Seconds(), m.Process)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
