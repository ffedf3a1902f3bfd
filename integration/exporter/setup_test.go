// Package exporter_test runs the exporter binary under a real supervisord
// 4.x (integration/harness) against crash-looping programs, scrapes it as
// Prometheus does, and runs a real Prometheus (Debian's package) with the
// shipped alert rules against it.
package exporter_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// Generous bounds: the machine may be loaded. Every wait ends on an event.
const (
	waitUp   = 30 * time.Second
	waitLoop = 2 * time.Minute
)

const host = "extest"

// scenario is one exporter run.
type scenario struct {
	// Exporter is the YAML body of listeners.exporter (listen is added).
	Exporter string
	// BufferSize is the exporter's buffer_size (default the harness's).
	BufferSize int
	// Others are more listeners beside the exporter (haltguard,
	// healthprobe, ...), with their sections.
	Others []harness.Guard
	// Programs are the conf sections of the watched programs.
	Programs string
	Tolerate []harness.Problem
}

type env struct {
	s    *harness.Supervisord
	port string
}

func start(t *testing.T, sc scenario) *env {
	t.Helper()
	port := harness.FreePort(t)
	s := harness.StartGuards(t, host, harness.Options{Sections: sc.Programs, Tolerate: sc.Tolerate},
		append([]harness.Guard{{Name: "exporter", BufferSize: sc.BufferSize,
			Body: "listen: 127.0.0.1:" + port + "\n" + sc.Exporter, Extra: []string{"environment=SUPERGUARD_LOG_LEVEL=debug"}}}, sc.Others...)...)
	return &env{s: s, port: port}
}

// url is the exporter's /metrics.
func (e *env) url() string { return "http://127.0.0.1:" + e.port + "/metrics" }

// scrape fetches and parses /metrics as Prometheus would.
func scrape(t testing.TB, url string) (map[string]*dto.MetricFamily, error) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// value is the value of the series of family name whose labels include
// every one of labels (name=value pairs), a histogram's count; ok false
// when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && have[labels[i]] == labels[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// waitValue waits until the series' value satisfies cond.
func (e *env) waitValue(t *testing.T, what string, timeout time.Duration, cond func(float64) bool, name string, labels ...string) float64 {
	t.Helper()
	var last float64
	testsupport.Eventually(t, timeout, what, func() (bool, string) {
		fams, err := scrape(t, e.url())
		if err != nil {
			return false, err.Error()
		}
		v, ok := value(fams, name, labels...)
		last = v
		return ok && cond(v), fmt.Sprintf("%s{%s} = %v (present %v)", name, strings.Join(labels, ","), v, ok)
	})
	return last
}

// crashLoop is a program that exits (status 1) n times, 0.2 s into each
// run, then stays up; its runs are counted in {{.Dir}}/NAME.runs.
func crashLoop(name, group string, n int) string {
	p := harness.Program{Name: name, Command: fmt.Sprintf(`/bin/sh -c 'f={{.Dir}}/%s.runs; r=$(cat $f 2>/dev/null || echo 0); r=$((r+1)); echo $r > $f; `+
		`if [ $r -le %d ]; then sleep 0.2; exit 1; fi; exec sleep 3600'`, name, n),
		Extra: []string{"startsecs=0", "startretries=100"}}.Section()
	if group != "" {
		p += fmt.Sprintf("\n[group:%s]\nprograms=%s\n", group, name)
	}
	return p
}
