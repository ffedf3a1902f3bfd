package crashpager_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/supervisor"
)

// realAlertmanager is a prometheus-alertmanager started for one test, with
// a webhook receiver in the test process.
type realAlertmanager struct {
	URL string // API base, http://127.0.0.1:port

	mu       sync.Mutex
	webhooks []amWebhook
}

// amWebhook is the part of Alertmanager's webhook payload the tests read.
type amWebhook struct {
	Status string `json:"status"`
	Alerts []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

// alertmanagerBinary returns Debian's prometheus-alertmanager, installing it
// with scripts/install-alertmanager.sh when needed, or skips the test when
// that is impossible (no root, no apt).
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "install-alertmanager.sh")).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil {
		t.Skipf("prometheus-alertmanager is not available and cannot be installed here (scripts/install-alertmanager.sh: %v):\n%s", err, out)
	}
	return lines[len(lines)-1]
}

// startAlertmanager runs a real Alertmanager on a loopback port, clustering
// off, grouping by dedup key with 1s waits, every notification (resolves
// included) sent to a webhook in this process.
func startAlertmanager(t *testing.T) *realAlertmanager {
	t.Helper()
	bin := alertmanagerBinary(t)
	am := &realAlertmanager{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p amWebhook
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("alertmanager webhook: %v", err)
			return
		}
		am.mu.Lock()
		am.webhooks = append(am.webhooks, p)
		am.mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	conf := filepath.Join(dir, "alertmanager.yml")
	writeFile(t, conf, fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, dedup_key]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/hook
        send_resolved: true
`, hook.URL))
	port := freePort(t)
	am.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	logf, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--cluster.listen-address=")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("alertmanager log:\n%s", b)
		}
	})
	testsupport.Eventually(t, 30*time.Second, "alertmanager ready", func() (bool, string) {
		resp, err := http.Get(am.URL + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return am
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// activeAlerts returns the label sets of the alerts Alertmanager's API
// lists as active.
func (am *realAlertmanager) activeAlerts(t *testing.T) []map[string]string {
	t.Helper()
	resp, err := http.Get(am.URL + "/api/v2/alerts?active=true&silenced=false&inhibited=false")
	if err != nil {
		t.Fatalf("alertmanager API: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &alerts); err != nil {
		t.Fatalf("alertmanager API: %v: %s", err, body)
	}
	var out []map[string]string
	for _, a := range alerts {
		if a.Status.State == "active" {
			out = append(out, a.Labels)
		}
	}
	return out
}

// resolved reports whether the webhook got a resolved notification for
// the alert with dedup key k.
func (am *realAlertmanager) resolved(k string) bool {
	am.mu.Lock()
	defer am.mu.Unlock()
	for _, w := range am.webhooks {
		for _, a := range w.Alerts {
			if a.Status == "resolved" && a.Labels["dedup_key"] == k && a.Labels["severity"] == "critical" {
				return true
			}
		}
	}
	return false
}

func (am *realAlertmanager) posts() int {
	am.mu.Lock()
	defer am.mu.Unlock()
	return len(am.webhooks)
}

func hasAlert(alerts []map[string]string, label, value string) bool {
	for _, l := range alerts {
		if l[label] == value {
			return true
		}
	}
	return false
}

func TestFatalThroughRealAlertmanager(t *testing.T) {
	t.Parallel()
	am := startAlertmanager(t)
	e := start(t, scenario{
		Crashpager:     "stable_for: 2s\nwatchdog: {interval: 1s}",
		Programs:       brokenUntilFixed,
		Sinks:          "  - {name: am, type: alertmanager, urls: [\"{{.Vars.am}}\"], timeout: 3s}\n  - {name: log, type: log}\n",
		Routes:         "  - match: {severity: critical}\n    sinks: [am]\n  - sinks: [log]\n",
		Vars:           map[string]string{"am": am.URL},
		NoSlackWebhook: true,
	})
	fatal := key("feed", alert.CondFatal)
	e.s.WaitProcessState(t, "feed", supervisor.ProcessFatal, 30*time.Second)
	testsupport.Eventually(t, 30*time.Second, "the FATAL firing in Alertmanager", func() (bool, string) {
		alerts := am.activeAlerts(t)
		return hasAlert(alerts, "dedup_key", fatal), fmt.Sprint(alerts)
	})
	alerts := am.activeAlerts(t)
	for _, l := range alerts {
		if l["dedup_key"] == fatal && (l["alertname"] != "SuperguardFatal" || l["severity"] != "critical" || l["host"] != host) {
			t.Errorf("FATAL alert labels %v", l)
		}
	}
	if !hasAlert(alerts, "alertname", "Watchdog") {
		t.Errorf("no Watchdog alert firing: %v", alerts)
	}

	writeFile(t, e.s.Path("fixed"), "")
	e.startProcess(t, "feed")
	testsupport.Eventually(t, 60*time.Second, "Alertmanager's webhook to report the FATAL resolved", func() (bool, string) {
		return am.resolved(fatal), fmt.Sprintf("%d webhook posts", am.posts())
	})
	if hasAlert(am.activeAlerts(t), "dedup_key", fatal) {
		t.Errorf("the FATAL alert is still active after its resolve")
	}
}
