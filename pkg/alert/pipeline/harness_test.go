package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/notify"
	"github.com/superguard/superguard/pkg/alert/pipeline/pipelinetest"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/config/configtest"
	"github.com/superguard/superguard/pkg/state"
)

// t0 is a Monday, 10:00 in New York: trading hours, no quiet hours.
var t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// Canary secrets: they must never appear in an error, a log line or a row.
const (
	canaryPD    = "pdCANARYpdCANARYpdCANARYpdCANARY"
	canaryHook  = "https://hooks.slack.example/services/TCANARY/BCANARY/hookCANARYsecret"
	canaryToken = "xoxb-CANARY-bot-token"
	canaryAM    = "amCANARYpassword"
	canarySV    = "svCANARYpassword"
)

var canaries = []string{canaryPD, canaryHook, "TCANARY/BCANARY/hookCANARYsecret", canaryToken, canaryAM, canarySV}

// baseConfig has one sink of each kind and the default routes: critical to
// pd and slack, error and warning to slack, info to log.
const baseConfig = `
host: h1
sinks:
  - {name: pd, type: pagerduty, routing_key_env: SG_TEST_PD}
  - {name: slack, type: slack, webhook_url_env: SG_TEST_HOOK}
  - {name: log, type: log}
dedup: {window: 5m, reminder: 1h, flap: {changes: 6, window: 15m}}
`

// fastConfig is baseConfig without rate limits, for tests whose fake clock
// should not have to move between deliveries.
const fastConfig = `
host: h1
sinks:
  - {name: pd, type: pagerduty, routing_key_env: SG_TEST_PD, rate: 0}
  - {name: slack, type: slack, webhook_url_env: SG_TEST_HOOK, rate: 0}
  - {name: log, type: log}
dedup: {window: 5m, reminder: 1h, flap: {changes: 6, window: 15m}}
`

type harness struct {
	t      *testing.T
	p      *Pipeline
	store  *state.Store
	clock  *pipelinetest.Clock
	cfg    *config.Config
	fakes  map[string]*pipelinetest.Notifier
	logs   *testsupport.SyncBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

// setSecrets puts the canary secrets where baseConfig and secretConfig look.
func setSecrets(t *testing.T) {
	t.Helper()
	t.Setenv("SG_TEST_PD", canaryPD)
	t.Setenv("SG_TEST_HOOK", canaryHook)
	t.Setenv("SG_TEST_TOKEN", canaryToken)
	t.Setenv("SG_TEST_AM", canaryAM)
	t.Setenv("SG_TEST_SV", canarySV)
}

// parseConfig parses cfgYAML and builds its sinks once, as a listener does
// before it starts the pipeline, so the sinks' secrets are resolved and
// cfg.Redact knows them; the tests then deliver to fakes.
func parseConfig(t testing.TB, cfgYAML string) *config.Config {
	t.Helper()
	cfg := configtest.Parse(t, cfgYAML)
	if _, err := notify.Build(cfg, zerolog.Nop()); err != nil {
		t.Fatalf("sinks: %v", err)
	}
	return cfg
}

// newHarness builds a pipeline on a fresh store with fake notifiers for
// every sink of cfgYAML and a fake clock at t0. Run is not started.
func newHarness(t *testing.T, cfgYAML string, tune ...func(*Options)) *harness {
	t.Helper()
	setSecrets(t)
	cfg := parseConfig(t, cfgYAML)
	store, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := &harness{t: t, store: store, clock: pipelinetest.NewClock(t0), cfg: cfg,
		fakes: map[string]*pipelinetest.Notifier{}, logs: &testsupport.SyncBuffer{}}
	notifiers := map[string]alert.Notifier{}
	for _, s := range cfg.Sinks {
		f := pipelinetest.NewNotifier(s.Name)
		h.fakes[s.Name], notifiers[s.Name] = f, f
	}
	opts := Options{Store: store, Config: cfg, Notifiers: notifiers, Clock: h.clock, Listener: "crashpager",
		Logger: zerolog.New(h.logs)}
	for _, f := range tune {
		f(&opts)
	}
	h.p, err = New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

// run starts the pipeline's senders and sweeper until the test ends.
func (h *harness) run() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		if err := h.p.Run(ctx); err != nil {
			h.t.Errorf("Run: %v", err)
		}
	}()
	h.t.Cleanup(func() { cancel(); <-h.done })
}

// waiters is how many goroutines of a running pipeline sleep on the clock
// when idle: one sender per sink and the sweeper.
func (h *harness) waiters() int { return len(h.p.senders) + 1 }

// exit returns an unexpected-exit trigger for program p of group g.
func exit(g, p string, sev alert.Severity) alert.Alert {
	return alert.Alert{Kind: alert.Trigger, Host: "h1", Group: g, Program: p, Condition: alert.CondExited,
		Severity: sev, Summary: p + " exited unexpectedly", Key: alert.Key("h1", g+":"+p, alert.CondExited)}
}

// resolved returns the resolve of a.
func resolved(a alert.Alert) alert.Alert {
	a.Kind, a.Summary, a.Action = alert.Resolve, a.Program+" running again", ""
	return a
}

func (h *harness) submit(a alert.Alert) {
	h.t.Helper()
	if err := h.p.Submit(context.Background(), &a); err != nil {
		h.t.Fatalf("Submit(%s %s): %v", a.Kind, a.Key, err)
	}
}

// sweep runs one sweep at the clock's time.
func (h *harness) sweep() {
	h.t.Helper()
	if err := h.p.sweep(context.Background()); err != nil {
		h.t.Fatalf("sweep: %v", err)
	}
}

// rows returns every outbox row, oldest first.
func (h *harness) rows() []*state.Delivery {
	h.t.Helper()
	ds, err := h.store.ListDeliveries(context.Background(), state.Filter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return ds
}

// markSent marks every pending row sent, as a healthy sender would.
func (h *harness) markSent() {
	h.t.Helper()
	now := h.clock.Now()
	err := h.store.Update(context.Background(), func(tx *state.Tx) error {
		for _, sink := range h.cfg.Sinks {
			if _, err := tx.AcquireLease(sink.Name, "test", 0, now, now.Add(time.Minute)); err != nil {
				return err
			}
			for {
				d, err := tx.Head(sink.Name)
				if err != nil || d == nil {
					if err == nil {
						err = tx.ReleaseLease(sink.Name, "test")
					}
					if err != nil {
						return err
					}
					break
				}
				if _, err := tx.Claim(sink.Name, d.ID, "test", now, now.Add(time.Minute)); err != nil {
					return err
				}
				if err := tx.MarkSent(d.ID, "", now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// summary renders rows as "sink purpose status count".
func summary(ds []*state.Delivery) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s %s %s %d", d.Sink, d.Purpose, d.Status, d.Notification.Count))
	}
	return out
}

// incident returns the open incident of key, failing when there is none.
func (h *harness) incident(key string) *state.Incident {
	h.t.Helper()
	var inc *state.Incident
	err := h.store.View(context.Background(), func(tx *state.Tx) error {
		var err error
		inc, err = tx.OpenIncident(key)
		return err
	})
	if err != nil || inc == nil {
		h.t.Fatalf("open incident of %s: %v, %v", key, inc, err)
	}
	return inc
}

// waitRow polls until row id satisfies ok, failing after 10 s.
func (h *harness) waitRow(id int64, what string, ok func(*state.Delivery) bool) *state.Delivery {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var d *state.Delivery
		err := h.store.View(context.Background(), func(tx *state.Tx) error {
			var err error
			d, err = tx.Delivery(id)
			return err
		})
		if err != nil {
			h.t.Fatal(err)
		}
		if d != nil && ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("row %d never became %s: %+v", id, what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
