package exporter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// prometheusBinary returns Debian's prometheus (promtool beside it):
// $SUPERGUARD_PROMETHEUS as make test sets it, else what
// scripts/install-prometheus.sh installs (once per test binary: two apt-get
// runs at once would fight over dpkg's lock).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	path, err := installPrometheus()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

var installPrometheus = sync.OnceValues(func() (string, error) {
	root, err := harness.ModuleRoot()
	if err != nil {
		return "", err
	}
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "install-prometheus.sh")).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return "", fmt.Errorf("scripts/install-prometheus.sh: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
})

// rulesDir is supervisor-conf/prometheus.
func rulesDir(t *testing.T) string {
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "supervisor-conf", "prometheus")
}

// TestShippedRules: promtool checks the shipped rules and runs their unit
// tests (input series and the alerts they must and must not fire).
func TestShippedRules(t *testing.T) {
	t.Parallel()
	promtool := filepath.Join(filepath.Dir(prometheusBinary(t)), "promtool")
	dir := rulesDir(t)
	for _, args := range [][]string{
		{"check", "rules", "superguard.rules.yml"},
		{"test", "rules", "superguard.rules.test.yml"},
		{"check", "config", "--syntax-only", "prometheus.yml.example"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestPrometheusFiresRestartSpree: a real Prometheus scrapes the exporter
// under a real supervisord every second with the shipped rules; a
// strategy that crash-loops shows in supervisor_process_restart_total and
// fires StrategyRestartSpree, read through Prometheus' own HTTP API.
func TestPrometheusFiresRestartSpree(t *testing.T) {
	t.Parallel()
	prom := prometheusBinary(t)
	e := start(t, scenario{Programs: crashLoop("looper", "trading", 8)})
	dir := t.TempDir()
	port := harness.FreePort(t)
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: superguard
    static_configs:
      - targets: ["127.0.0.1:%s"]
`, filepath.Join(rulesDir(t), "superguard.rules.yml"), e.port)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:"+port)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	api := "http://127.0.0.1:" + port + "/api/v1/"
	testsupport.Eventually(t, waitLoop, "the restarts in Prometheus", func() (bool, string) {
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := getJSON(api+"query?query="+url.QueryEscape(`supervisor_process_restart_total{name="looper",group="trading",job="superguard"}`), &r); err != nil {
			return false, err.Error()
		}
		if len(r.Data.Result) == 0 {
			return false, "no series yet"
		}
		v, _ := r.Data.Result[0].Value[1].(string)
		n, err := strconv.ParseFloat(v, 64)
		return err == nil && n >= 3, "restarts: " + v
	})
	testsupport.Eventually(t, waitLoop, "StrategyRestartSpree firing", func() (bool, string) {
		var r struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		if err := getJSON(api+"alerts", &r); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, a := range r.Data.Alerts {
			seen = append(seen, a.Labels["alertname"]+"/"+a.State)
			if a.Labels["alertname"] == "StrategyRestartSpree" && a.State == "firing" && a.Labels["name"] == "looper" && a.Labels["severity"] == "warning" {
				return true, ""
			}
		}
		return false, "alerts: " + strings.Join(seen, ", ")
	})
}

func getJSON(u string, v any) error {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
