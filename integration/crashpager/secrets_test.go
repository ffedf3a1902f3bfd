package crashpager_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/alerttest"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestNoSecretInAnyLogOrTheOutbox plants a canary in every secret (the
// Slack webhook URL's path, the PagerDuty routing key, the dead-man URL and
// the Alertmanager password), makes every destination fail in a way whose
// error would quote it (a refused connection's *url.Error prints the whole
// URL), and then searches every file the scenario produced, the state
// database with its WAL, and the operator commands' output.
func TestNoSecretInAnyLogOrTheOutbox(t *testing.T) {
	t.Parallel()
	var pings atomic.Int32
	dm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pings.Add(1)
		http.Error(w, "monitor down", http.StatusBadGateway)
	}))
	t.Cleanup(dm.Close)
	am := alerttest.NewAlertmanager(t)
	am.RequireBasicAuth("superguard", "another-password") // ours is refused: 401
	am.ExpectViolations()

	e := start(t, scenario{
		Crashpager: `stable_for: 60s
deadman: {url_env: DM_URL, interval: 1s, timeout: 1s}
watchdog: {interval: 1s}`,
		Programs: brokenUntilFixed,
		Sinks: defaultSinks + `  - {name: am, type: alertmanager, urls: ["{{.Vars.am}}"], username: superguard, password_env: AM_PASS, timeout: 2s}
`,
		Routes: `  - match: {severity: critical}
    sinks: [pd, slack, am]
  - sinks: [log]
`,
		Vars: map[string]string{"am": am.URL()},
		Env:  []string{"DM_URL=" + dm.URL + "/ping/" + canaryDeadMan, "AM_PASS=" + canaryAMPassword},
	})
	canaries := []string{e.slack.Secret(), canaryRoutingKey, canaryDeadMan, canaryAMPassword}
	e.slack.Refuse()                                      // *url.Error with the whole webhook URL
	e.pd.FailAll(alerttest.Status(http.StatusBadRequest)) // permanent: a dead letter
	e.s.WaitProcessState(t, "feed", supervisor.ProcessFatal, 30*time.Second)

	st := e.openStore(t)
	fatal := key("feed", alert.CondFatal)
	testsupport.Eventually(t, 60*time.Second, "every sink to have failed", func() (bool, string) {
		var last strings.Builder
		failed := map[string]bool{}
		for _, d := range deliveries(t, st, fatal) {
			last.WriteString(d.Sink + " " + string(d.Status) + " " + d.LastError + "\n")
			failed[d.Sink] = d.LastError != "" && (d.Sink == "slack" || d.Status == state.Dead)
		}
		return failed["slack"] && failed["pd"] && failed["am"], last.String()
	})
	testsupport.Eventually(t, 30*time.Second, "dead-man pings and Watchdog failures", func() (bool, string) {
		log := e.s.ReadListenerStderr("crashpager")
		return pings.Load() >= 2 && strings.Contains(log, "dead-man ping not sent") &&
			strings.Contains(log, "watchdog alert not sent"), log
	})
	// The failures happened the way that would leak: a refused connection
	// (whose *url.Error quotes the webhook URL), and errors were scrubbed.
	for _, d := range deliveries(t, st, fatal) {
		if d.Sink == "slack" && !strings.Contains(d.LastError, "connection refused") {
			t.Errorf("slack delivery error %q, want a refused connection", d.LastError)
		}
	}
	if !strings.Contains(e.s.ReadListenerStderr("crashpager"), "[REDACTED]") {
		t.Errorf("no redacted error in crashpager's log: the failures did not quote a secret")
	}
	if e.pd.Requests() == 0 || am.Requests() == 0 {
		t.Fatalf("PagerDuty (%d requests) or Alertmanager (%d) never reached", e.pd.Requests(), am.Requests())
	}

	// The operator commands print the outbox and its dead letters.
	bin := harness.Bin(t, "./listeners/crashpager")
	var ops bytes.Buffer
	for _, args := range [][]string{{"outbox"}, {"outbox", "-dead"}, {"outbox", "-json"}, {"incidents", "-json"}} {
		cmd := exec.Command(bin, append(args, "-config", e.s.Path("superguard.yaml"))...)
		cmd.Env = testsupport.CleanEnv("AM_PASS="+canaryAMPassword, "PD_KEY="+canaryRoutingKey,
			"SLACK_URL="+e.slack.URL(), "DM_URL="+dm.URL+"/ping/"+canaryDeadMan)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("crashpager %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		ops.Write(out)
	}
	if !strings.Contains(ops.String(), fatal) {
		t.Errorf("operator output does not list %s:\n%s", fatal, ops.String())
	}
	opsFile := filepath.Join(t.TempDir(), "ops.out")
	writeFile(t, opsFile, ops.String())

	e.s.Stop(t) // every log complete, the database closed
	files := append(logFiles(t, e.s.Dir), opsFile)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		files = append(files, e.s.Path("state.db"+suffix))
	}
	scanForCanaries(t, files, canaries)
}

// secretScan holds the canaries and where they were found.
func scanForCanaries(t *testing.T, files []string, canaries []string) {
	t.Helper()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			t.Fatalf("read %s: %v", f, err)
		}
		for _, c := range canaries {
			if i := bytes.Index(b, []byte(c)); i >= 0 {
				lo, hi := max(0, i-200), min(len(b), i+len(c)+50)
				t.Errorf("secret %q found in %s:\n...%s...", c, f, b[lo:hi])
			}
		}
	}
}
