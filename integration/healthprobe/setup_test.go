// Package healthprobe_test runs the healthprobe binary under a real
// supervisord 4.x (integration/harness) against fake strategies
// (integration/cmd/fakestrategy) serving /health, heartbeats and sd_notify.
// Every scenario has its own supervisord, state store and ports, and runs
// in parallel.
package healthprobe_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/state"
)

// Generous bounds: the machine may be loaded. Every wait ends on an event.
const (
	waitUp     = 30 * time.Second
	waitAction = 60 * time.Second
)

var (
	host = "hptest"
	fake = harness.FakeStrategy
)

// scenario is one healthprobe run.
type scenario struct {
	// Healthprobe is the YAML body of listeners.healthprobe (indented by
	// start); Haltguard, when set, adds haltguard with that section.
	Healthprobe, Haltguard string
	// Programs are the conf sections of the watched programs.
	Programs string
	// Vars are template values ({{.Vars.key}}); start adds ports port0..port3.
	Vars map[string]string
	// Tolerate lists supervisord log problems the scenario may produce.
	Tolerate []harness.Problem
}

type env struct {
	s     *harness.Supervisord
	vars  map[string]string
	store string // the state store's path
}

func start(t *testing.T, sc scenario) *env {
	t.Helper()
	vars := map[string]string{}
	for i := range 4 {
		vars[fmt.Sprintf("port%d", i)] = harness.FreePort(t)
	}
	for k, v := range sc.Vars {
		vars[k] = v
	}
	guards := []harness.Guard{{Name: "healthprobe", Body: sc.Healthprobe, Extra: []string{"environment=SUPERGUARD_LOG_LEVEL=debug"}}}
	if sc.Haltguard != "" {
		guards = append(guards, harness.Guard{Name: "haltguard", Body: sc.Haltguard})
	}
	s := harness.StartGuards(t, host, harness.Options{Sections: sc.Programs, Vars: vars, Tolerate: sc.Tolerate}, guards...)
	return &env{s: s, vars: vars, store: filepath.Join(s.Dir, "state.db")}
}

// targetStatus mirrors the fields of healthprobe's status snapshot the
// tests read.
type targetStatus struct {
	Check      string `json:"check"`
	Process    string `json:"process"`
	PID        int    `json:"pid"`
	State      string `json:"state"`
	Failures   int    `json:"failures"`
	Alerting   bool   `json:"alerting"`
	Evidence   string `json:"evidence"`
	LastAction string `json:"last_action"`
	Restarts   string `json:"restarts"`
}

type snapshot struct {
	Rounds  int64          `json:"rounds"`
	Halted  bool           `json:"halted"`
	Targets []targetStatus `json:"targets"`
}

// status reads healthprobe's status snapshot.
func (e *env) status(t testing.TB) snapshot {
	t.Helper()
	var s snapshot
	e.s.ReadStatus(t, "healthprobe", &s)
	return s
}

// target returns the status of check on process ("" fields when absent).
func (e *env) target(t *testing.T, check, process string) targetStatus {
	for _, ts := range e.status(t).Targets {
		if ts.Check == check && ts.Process == process {
			return ts
		}
	}
	return targetStatus{}
}

// waitTarget waits until check on process satisfies cond.
func (e *env) waitTarget(t *testing.T, check, process, what string, timeout time.Duration, cond func(targetStatus) bool) targetStatus {
	t.Helper()
	var last targetStatus
	testsupport.Eventually(t, timeout, what, func() (bool, string) {
		last = e.target(t, check, process)
		return cond(last), fmt.Sprintf("%+v", last)
	})
	return last
}

// waitRounds waits for n more rounds than now: the positive signal that
// healthprobe looked (an absence check waits on it, never on a sleep).
func (e *env) waitRounds(t *testing.T, n int64) {
	t.Helper()
	harness.WaitRounds(t, n, waitUp, func() int64 { return e.status(t).Rounds })
}

// incidents are the open incidents in the state store.
func (e *env) incidents(t *testing.T) []*state.Incident {
	return harness.FromStore(t, e.store, (*state.Store).OpenIncidents)
}

// incidentKeys lists incidents' keys for a message.
func incidentKeys(incs []*state.Incident) string {
	var keys []string
	for _, i := range incs {
		keys = append(keys, i.Key)
	}
	return strings.Join(keys, ", ")
}

// waitAction waits until the last action of check on process mentions
// every one of want, and returns the status.
func (e *env) waitAction(t *testing.T, check, process string, want ...string) targetStatus {
	t.Helper()
	return e.waitTarget(t, check, process, "last action with "+strings.Join(want, " and "), waitAction, func(s targetStatus) bool {
		for _, w := range want {
			if !strings.Contains(s.LastAction, w) {
				return false
			}
		}
		return true
	})
}

// hasIncident reports whether an open incident's key ends with suffix and
// has severity sev.
func hasIncident(incs []*state.Incident, suffix string, sev alert.Severity) bool {
	for _, i := range incs {
		if strings.HasSuffix(i.Key, suffix) && i.Severity == sev {
			return true
		}
	}
	return false
}

// healthyThenRestarted waits for check on program (an ungrouped program)
// to pass with evidence holding healthy, then for the program to be
// restarted by healthprobe with an action mentioning every one of want.
func (e *env) healthyThenRestarted(t *testing.T, check, program, healthy string, want ...string) {
	t.Helper()
	pid := e.s.ProcessPID(t, program)
	process := program + ":" + program
	e.waitTarget(t, check, process, "healthy with "+healthy, waitUp, func(s targetStatus) bool {
		return s.State == "healthy" && strings.Contains(s.Evidence, healthy)
	})
	e.s.WaitRestarted(t, program, pid, waitAction)
	e.waitAction(t, check, process, append([]string{"restarted"}, want...)...)
}

// write writes content to the scenario directory's file name (a health
// override, a marker) and returns its path.
func (e *env) write(t *testing.T, name, content string) string {
	t.Helper()
	path := e.s.Path(name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// remove removes the scenario directory's file name.
func (e *env) remove(t *testing.T, name string) {
	t.Helper()
	if err := os.Remove(e.s.Path(name)); err != nil {
		t.Fatal(err)
	}
}

// waitDetail waits for an open incident of check whose detail key holds
// want.
func (e *env) waitDetail(t *testing.T, check, key, want string) {
	t.Helper()
	testsupport.Eventually(t, waitAction, check+" incident with "+key+" "+want, func() (bool, string) {
		var seen []string
		for _, inc := range e.incidents(t) {
			d := inc.Alert.Details
			if d["check"] == check && strings.Contains(d[key], want) {
				return true, ""
			}
			seen = append(seen, d["check"]+": "+d[key])
		}
		return false, strings.Join(seen, "; ")
	})
}

// exists reports whether the scenario directory has the file name.
func (e *env) exists(name string) bool {
	_, err := os.Stat(e.s.Path(name))
	return err == nil
}
