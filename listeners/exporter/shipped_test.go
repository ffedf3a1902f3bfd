package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/state"
)

// served are the metric names the collector serves, with a histogram's
// series names.
func served(t *testing.T) map[string]bool {
	ch := make(chan *prometheus.Desc, 100)
	go func() {
		(&collector{}).describe(ch)
		close(ch)
	}()
	re := regexp.MustCompile(`fqName: "([^"]+)"`)
	out := map[string]bool{}
	for d := range ch {
		m := re.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		out[m[1]] = true
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			out[m[1]+s] = true
		}
	}
	for _, f := range procFams {
		out[f.name] = true
	}
	return out
}

// metricRE finds the names of superguard's and supervisord's metrics in
// a PromQL expression.
var metricRE = regexp.MustCompile(`\b(supervisord?_[a-z_]+|superguard_[a-z_]+)`)

func checkExprs(t *testing.T, where string, exprs []string, names map[string]bool) {
	t.Helper()
	if len(exprs) == 0 {
		t.Fatalf("%s: no expressions found", where)
	}
	for _, e := range exprs {
		for _, m := range metricRE.FindAllString(e, -1) {
			if !names[m] {
				t.Errorf("%s: %s names %s, which the exporter does not serve", where, e, m)
			}
		}
	}
}

// TestShippedDashboardAndRulesNameServedMetrics: every query of the
// Grafana dashboard and every rule names metrics the exporter serves.
func TestShippedDashboardAndRulesNameServedMetrics(t *testing.T) {
	names := served(t)
	b, err := os.ReadFile("../../supervisor-conf/grafana/superguard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	checkExprs(t, "grafana/superguard.json", exprs, names)
	rules, err := os.ReadFile("../../supervisor-conf/prometheus/superguard.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var ruleExprs []string
	for line := range strings.Lines(string(rules)) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			ruleExprs = append(ruleExprs, line)
		}
	}
	checkExprs(t, "prometheus/superguard.rules.yml", ruleExprs, names)
	// And the rules' headline metrics are there at all.
	for _, want := range []string{"supervisor_process_restart_total", "superguard_halt_latched", "superguard_events_dropped_total"} {
		if !slices.ContainsFunc(ruleExprs, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("the rules do not use %s", want)
		}
	}
}

// TestCollectorServesWhatItDescribes: a scrape of a model with a process
// and a guard snapshot passes client_golang's lint and yields only
// described metrics.
func TestCollectorServesWhatItDescribes(t *testing.T) {
	m := newModel(nil, time.Now)
	m.event(&eventlistener.ProcessState{Group: "trading", Process: "mm", ToState: "RUNNING", PID: 4})
	c := &collector{m: m, kill: true, now: time.Now}
	c.up.Store(true)
	c.guard.Store(&guardSnapshot{at: time.Now(), storeOK: true, latchKnown: true, latched: true,
		halts: map[string]int64{"process": 1}, latency: []float64{0.03},
		outbox: map[[2]string]int{{"slack", "pending"}: 2}, oldestQueued: map[string]time.Duration{"slack": time.Minute},
		heartbeats: []state.Heartbeat{{Listener: "haltguard", UpdatedAt: time.Now(), Dropped: 3}},
		probes:     []probeStatus{{Check: "api", Kind: "http", Process: "trading:mm", LastOK: true, Latency: "12ms", Probed: "x"}},
		memory:     []memStatus{{Process: "trading:mm", Measure: "tree_rss", Bytes: 100, MaxBytes: 200, TimeToLimit: "1h0m0s"}},
	})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	g := c.gatherer(reg)
	problems, err := testutil.GatherAndLint(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := served(t)
	total := 0
	for i, f := range mfs {
		if i > 0 && mfs[i-1].GetName() >= f.GetName() {
			t.Errorf("families not sorted: %s before %s", mfs[i-1].GetName(), f.GetName())
		}
		if !names[f.GetName()] && !strings.HasPrefix(f.GetName(), "go_") && !strings.HasPrefix(f.GetName(), "process_") {
			t.Errorf("%s is served but not listed", f.GetName())
		}
		seen := map[string]bool{}
		for _, m := range f.Metric {
			total++
			var key []string
			for j, l := range m.Label {
				if j > 0 && m.Label[j-1].GetName() >= l.GetName() {
					t.Errorf("%s: labels not sorted: %v", f.GetName(), m.Label)
				}
				key = append(key, l.GetName()+"="+l.GetValue())
			}
			k := strings.Join(key, ",")
			if seen[k] {
				t.Errorf("%s: the series {%s} twice", f.GetName(), k)
			}
			seen[k] = true
		}
	}
	if total < 30 {
		t.Errorf("%d series gathered", total)
	}
	latched := -1.0
	for _, mt := range collectAll(c) {
		if strings.Contains(mt.Desc().String(), `"superguard_halt_latched"`) {
			var d dto.Metric
			if err := mt.Write(&d); err != nil {
				t.Fatal(err)
			}
			latched = d.GetGauge().GetValue()
		}
	}
	if latched != 1 {
		t.Errorf("superguard_halt_latched = %v, want 1", latched)
	}
}

func collectAll(c prometheus.Collector) []prometheus.Metric {
	ch := make(chan prometheus.Metric, 1000)
	c.Collect(ch)
	close(ch)
	var out []prometheus.Metric
	for m := range ch {
		out = append(out, m)
	}
	return out
}
