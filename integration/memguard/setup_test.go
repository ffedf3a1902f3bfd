// Package memguard_test runs the memguard binary under a real supervisord
// 4.x (integration/harness) against fake strategies
// (integration/cmd/fakestrategy) that grow memory, spawn children, spin
// and hold file descriptors. Every scenario has its own supervisord,
// state store and config, and runs in parallel.
package memguard_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/state"
)

// Generous bounds: the machine may be loaded. Every wait ends on an event.
const (
	waitUp     = 30 * time.Second
	waitAction = 90 * time.Second
)

var (
	host = "mgtest"
	fake = harness.FakeStrategy
)

// scenario is one memguard run.
type scenario struct {
	// Memguard is the YAML body of listeners.memguard; Haltguard and
	// Healthprobe, when set, add those listeners with their sections.
	Memguard, Haltguard, Healthprobe string
	// Programs are the conf sections of the watched programs.
	Programs string
	Vars     map[string]string
	Tolerate []harness.Problem
}

type env struct {
	s     *harness.Supervisord
	store string // the state store's path
}

// guards are the scenario's listeners, memguard first.
func guards(sc scenario) []harness.Guard {
	gs := []harness.Guard{{Name: "memguard", Body: sc.Memguard, Extra: []string{"environment=SUPERGUARD_LOG_LEVEL=debug"}}}
	if sc.Haltguard != "" {
		gs = append(gs, harness.Guard{Name: "haltguard", Body: sc.Haltguard})
	}
	if sc.Healthprobe != "" {
		gs = append(gs, harness.Guard{Name: "healthprobe", Body: sc.Healthprobe})
	}
	return gs
}

func start(t *testing.T, sc scenario) *env {
	t.Helper()
	s := harness.StartGuards(t, host, harness.Options{Sections: sc.Programs, Vars: sc.Vars, Tolerate: sc.Tolerate}, guards(sc)...)
	return &env{s: s, store: filepath.Join(s.Dir, "state.db")}
}

// procStatus mirrors the fields of memguard's status snapshot the tests
// read.
type procStatus struct {
	Process       string   `json:"process"`
	PID           int      `json:"pid"`
	State         string   `json:"state"`
	Limit         string   `json:"limit"`
	Measure       string   `json:"measure"`
	Bytes         int64    `json:"bytes"`
	MaxBytes      int64    `json:"max_bytes"`
	Over          int      `json:"over"`
	RSS           int64    `json:"rss_bytes"`
	TreeRSS       int64    `json:"tree_rss"`
	Children      int      `json:"children"`
	GrowthPerHour int64    `json:"growth_per_hour"`
	TrendReady    bool     `json:"trend_ready"`
	TimeToLimit   string   `json:"time_to_limit"`
	Cores         float64  `json:"cores"`
	OpenFiles     int      `json:"open_files"`
	FileLimit     uint64   `json:"file_limit"`
	LastAction    string   `json:"last_action"`
	Restarts      string   `json:"restarts"`
	Alerting      []string `json:"alerting"`
}

type snapshot struct {
	Rounds    int64        `json:"rounds"`
	Halted    bool         `json:"halted"`
	Processes []procStatus `json:"processes"`
	Host      *struct {
		Alerting []string `json:"alerting"`
		Disks    []struct {
			Path string `json:"path"`
			Free int64  `json:"free"`
		} `json:"disks"`
	} `json:"host"`
}

// status reads memguard's status snapshot.
func (e *env) status(t testing.TB) snapshot {
	t.Helper()
	var s snapshot
	e.s.ReadStatus(t, "memguard", &s)
	return s
}

// proc returns the status of process (zero when absent).
func (e *env) proc(t testing.TB, process string) procStatus {
	for _, p := range e.status(t).Processes {
		if p.Process == process {
			return p
		}
	}
	return procStatus{}
}

// waitProc waits until process's status satisfies cond.
func (e *env) waitProc(t *testing.T, process, what string, timeout time.Duration, cond func(procStatus) bool) procStatus {
	t.Helper()
	var last procStatus
	testsupport.Eventually(t, timeout, process+": "+what, func() (bool, string) {
		last = e.proc(t, process)
		return cond(last), fmt.Sprintf("%+v", last)
	})
	return last
}

// waitRounds waits for n more rounds than now: the positive signal that
// memguard looked (an absence check waits on it, never on a sleep).
func (e *env) waitRounds(t *testing.T, n int64) {
	t.Helper()
	harness.WaitRounds(t, n, waitUp, func() int64 { return e.status(t).Rounds })
}

// incidentKeys are the keys of the open incidents.
func (e *env) incidentKeys(t *testing.T) []string {
	var keys []string
	for _, i := range harness.FromStore(t, e.store, (*state.Store).OpenIncidents) {
		keys = append(keys, i.Key+" "+i.Severity.String())
	}
	return keys
}

// waitIncident waits for an open incident whose key and severity hold
// want ("mgtest/trading:mm/memory warning").
func (e *env) waitIncident(t *testing.T, want string) {
	t.Helper()
	testsupport.Eventually(t, waitAction, "an open incident "+want, func() (bool, string) {
		keys := e.incidentKeys(t)
		for _, k := range keys {
			if strings.Contains(k, want) {
				return true, ""
			}
		}
		return false, strings.Join(keys, ", ")
	})
}

// hasIncident reports whether an open incident's key holds part.
func (e *env) hasIncident(t *testing.T, part string) bool {
	for _, k := range e.incidentKeys(t) {
		if strings.Contains(k, part) {
			return true
		}
	}
	return false
}

// program is a fake strategy's conf section.
func program(name, args string) string {
	return harness.Program{Name: name, Command: fake + " " + args}.Section()
}
