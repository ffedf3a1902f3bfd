package main

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The process metrics are built as metric families directly rather than
// as client_golang const metrics: 500 processes are 8,000 series, and the
// const-metric path (label pairs made, sorted and hashed per series, per
// scrape) took 13 ms a scrape (BenchmarkScrapeHandler). Label pairs are
// made once per process and shared; values are allocated per family.

// fam is a process metric family.
type fam struct {
	name, help string
	typ        dto.MetricType
}

var (
	famInfo     = fam{"supervisor_process_info", "Always 1 for each process supervisord runs, with its current state as a label.", dto.MetricType_GAUGE}
	famState    = fam{"supervisor_process_state", "1 for the process's current state, 0 for every other state (one series per state).", dto.MetricType_GAUGE}
	famStart    = fam{"supervisor_process_start_time_seconds", "When the process last started, as a Unix time (0: never started).", dto.MetricType_GAUGE}
	famUptime   = fam{"supervisor_process_uptime_seconds", "Seconds since the process last started, while it is RUNNING; 0 otherwise.", dto.MetricType_GAUGE}
	famRestarts = fam{"supervisor_process_restart_total", "Times the process came up again (RUNNING with a new pid after an earlier run), counted from events and persisted; missed events are reconciled from getAllProcessInfo.", dto.MetricType_COUNTER}
	famExits    = fam{"supervisor_process_exit_total", "Exits of the process (PROCESS_STATE_EXITED), by whether the exit code was in its exitcodes (unknown: an exit whose event supervisord dropped, found by a reconciliation).", dto.MetricType_COUNTER}
	famStatus   = fam{"supervisor_process_exit_status", "The exit status supervisord reported for the process the last time the exporter read it EXITED (PROCESS_STATE_EXITED carries none; an autorestarted process is seldom read in between).", dto.MetricType_GAUGE}
	famFatals   = fam{"supervisor_process_fatal_total", "Times the process entered FATAL (supervisord gave up starting it).", dto.MetricType_COUNTER}
	famBackoffs = fam{"supervisor_process_backoff_total", "Times the process entered BACKOFF (it died before startsecs).", dto.MetricType_COUNTER}

	procFams = []fam{famInfo, famState, famStart, famUptime, famRestarts, famExits, famStatus, famFatals, famBackoffs}
)

func pair(name, value string) *dto.LabelPair { return &dto.LabelPair{Name: &name, Value: &value} }

// Shared label pairs.
var (
	statePairs = func() map[string]*dto.LabelPair {
		m := map[string]*dto.LabelPair{}
		for _, s := range states {
			m[s] = pair("state", s)
		}
		return m
	}()
	expectedPairs = map[string]*dto.LabelPair{"expected": pair("expected", "true"), "unexpected": pair("expected", "false"), "unknown": pair("expected", "unknown")}
)

// procLabels are a process's label pairs, made once.
type procLabels struct{ name, group *dto.LabelPair }

// labelCache keeps every process's label pairs.
type labelCache struct {
	mu sync.Mutex
	m  map[string]procLabels
}

func (c *labelCache) get(p *proc) procLabels {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := p.group + ":" + p.name
	l, ok := c.m[key]
	if !ok {
		if c.m == nil {
			c.m = map[string]procLabels{}
		}
		l = procLabels{name: pair("name", p.name), group: pair("group", p.group)}
		c.m[key] = l
	}
	return l
}

// prune drops the label pairs of processes no longer in snap (a program
// removed or renamed), once there are more than snap's.
func (c *labelCache) prune(snap []proc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) <= len(snap) {
		return
	}
	keep := make(map[string]bool, len(snap))
	for i := range snap {
		keep[snap[i].group+":"+snap[i].name] = true
	}
	for key := range c.m {
		if !keep[key] {
			delete(c.m, key)
		}
	}
}

// builder fills one family with metrics whose values come from slabs.
type builder struct {
	f       *dto.MetricFamily
	metrics []dto.Metric
	values  []float64
	gauges  []dto.Gauge
	counts  []dto.Counter
}

func newBuilder(f fam, n int) *builder {
	b := &builder{f: &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: f.typ.Enum(), Metric: make([]*dto.Metric, 0, n)},
		metrics: make([]dto.Metric, 0, n), values: make([]float64, 0, n)}
	if f.typ == dto.MetricType_COUNTER {
		b.counts = make([]dto.Counter, 0, n)
	} else {
		b.gauges = make([]dto.Gauge, 0, n)
	}
	return b
}

// add appends a series; labels must be sorted by name.
func (b *builder) add(v float64, labels ...*dto.LabelPair) {
	b.values = append(b.values, v)
	val := &b.values[len(b.values)-1]
	b.metrics = append(b.metrics, dto.Metric{Label: labels})
	m := &b.metrics[len(b.metrics)-1]
	if b.counts != nil {
		b.counts = append(b.counts, dto.Counter{Value: val})
		m.Counter = &b.counts[len(b.counts)-1]
	} else {
		b.gauges = append(b.gauges, dto.Gauge{Value: val})
		m.Gauge = &b.gauges[len(b.gauges)-1]
	}
	b.f.Metric = append(b.f.Metric, m)
}

// processFamilies are the process metrics of the model now.
func (c *collector) processFamilies() []*dto.MetricFamily {
	snap := c.m.snapshot()
	n := len(snap)
	now := c.now()
	info, state := newBuilder(famInfo, n), newBuilder(famState, n*len(states))
	start, uptime := newBuilder(famStart, n), newBuilder(famUptime, n)
	restarts, exits, status := newBuilder(famRestarts, n), newBuilder(famExits, 2*n), newBuilder(famStatus, n)
	fatals, backoffs := newBuilder(famFatals, n), newBuilder(famBackoffs, n)
	for i := range snap {
		p := &snap[i]
		l := c.labels.get(p)
		st := p.state
		if statePairs[st] == nil {
			st = "UNKNOWN"
		}
		info.add(1, l.group, l.name, statePairs[st])
		for _, s := range states {
			state.add(b2f(s == st), l.group, l.name, statePairs[s])
		}
		startAt, up := 0.0, 0.0
		if !p.start.IsZero() {
			startAt = float64(p.start.UnixMilli()) / 1000
			if st == "RUNNING" {
				up = max(0, now.Sub(p.start).Seconds())
			}
		}
		start.add(startAt, l.group, l.name)
		uptime.add(up, l.group, l.name)
		restarts.add(float64(p.c.Restarts), l.group, l.name)
		exits.add(float64(p.c.Exits["expected"]), expectedPairs["expected"], l.group, l.name)
		exits.add(float64(p.c.Exits["unexpected"]), expectedPairs["unexpected"], l.group, l.name)
		if u := p.c.Exits["unknown"]; u > 0 {
			exits.add(float64(u), expectedPairs["unknown"], l.group, l.name)
		}
		if p.c.ExitStatus != nil {
			status.add(float64(*p.c.ExitStatus), l.group, l.name)
		}
		fatals.add(float64(p.c.Fatals), l.group, l.name)
		backoffs.add(float64(p.c.Backoffs), l.group, l.name)
	}
	c.labels.prune(snap)
	var out []*dto.MetricFamily
	for _, b := range []*builder{info, state, start, uptime, restarts, exits, status, fatals, backoffs} {
		if len(b.f.Metric) > 0 {
			out = append(out, b.f)
		}
	}
	return out
}

// gatherer serves reg's metrics (the guard's, the process's own and Go's)
// and the process families, sorted by name as the text format wants.
func (c *collector) gatherer(reg *prometheus.Registry) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := reg.Gather()
		mfs = append(mfs, c.processFamilies()...)
		slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int {
			switch {
			case a.GetName() < b.GetName():
				return -1
			case a.GetName() > b.GetName():
				return 1
			}
			return 0
		})
		return mfs, err
	})
}
