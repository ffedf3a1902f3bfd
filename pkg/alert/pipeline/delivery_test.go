package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/pipeline/pipelinetest"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/state"
)

func TestDeliveryCarriesRefs(t *testing.T) {
	h := newHarness(t, fastConfig)
	h.run()
	a := exit("risk", "limits", alert.Critical)
	h.submit(a)
	for _, sink := range []string{"pd", "slack"} {
		h.fakes[sink].WaitCalls(t, 1)
	}
	// Deliveries are recorded before the resolve: wait for the refs.
	for _, d := range h.rows() {
		h.waitRow(d.ID, "sent", func(d *state.Delivery) bool { return d.Status == state.Sent })
	}
	h.submit(resolved(a))
	for _, sink := range []string{"pd", "slack"} {
		calls := h.fakes[sink].WaitCalls(t, 2)
		if got := pipelinetest.Kinds(calls); !equal(got, []string{"trigger:1", "resolve"}) {
			t.Errorf("%s got %q", sink, got)
		}
		if calls[0].Ref != "" || calls[1].Ref != sink+"/1" {
			t.Errorf("%s refs = %q, %q; want the trigger's receipt on the resolve", sink, calls[0].Ref, calls[1].Ref)
		}
		if calls[0].IncidentID != calls[1].IncidentID || calls[1].Count != 1 {
			t.Errorf("%s resolve = %+v", sink, calls[1])
		}
	}
	if calls := h.fakes["log"].Calls(); len(calls) != 0 {
		t.Errorf("log sink got %s", pipelinetest.Describe(calls))
	}
}

func TestRetryWaits(t *testing.T) {
	boom := errors.New("503 service unavailable")
	tests := []struct {
		name     string
		sink     string
		sev      alert.Severity
		err      error
		min, max time.Duration // wait before the second attempt
	}{
		{"pagerduty 429 waits at least 30s", "pd", alert.Critical, alert.Retry(boom, 2*time.Second), 30 * time.Second, 30 * time.Second},
		{"retry-after honoured", "slack", alert.Error, alert.Retry(boom, 7*time.Second), 7 * time.Second, 7 * time.Second},
		{"retry-after above the backoff cap", "slack", alert.Error, alert.Retry(boom, 10*time.Minute), 10 * time.Minute, 10 * time.Minute},
		{"plain backoff with jitter", "slack", alert.Error, alert.Retry(boom, 0), 500 * time.Millisecond, time.Second},
		{"unclassified error retries", "slack", alert.Error, boom, 500 * time.Millisecond, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, fastConfig)
			f := h.fakes[tc.sink]
			f.Fail(tc.err)
			h.run()
			h.submit(exit("g", "p", tc.sev))
			f.WaitCalls(t, 1)
			var id int64
			for _, d := range h.rows() {
				if d.Sink == tc.sink {
					id = d.ID
				}
			}
			d := h.waitRow(id, "pending for retry", func(d *state.Delivery) bool { return d.Status == state.Pending && d.Attempts == 1 })
			wait := d.NextAttemptAt.Sub(d.UpdatedAt)
			if wait < tc.min || wait > tc.max {
				t.Fatalf("retry in %v, want %v..%v", wait, tc.min, tc.max)
			}
			if !strings.Contains(d.LastError, "503 service unavailable") {
				t.Errorf("last error = %q", d.LastError)
			}
			h.clock.Set(d.NextAttemptAt)
			calls := f.WaitCalls(t, 2)
			if calls[1].IncidentID != calls[0].IncidentID {
				t.Errorf("retry delivered another notification: %s", pipelinetest.Describe(calls))
			}
			h.waitRow(id, "sent", func(d *state.Delivery) bool { return d.Status == state.Sent && d.Attempts == 2 })
		})
	}
}

func TestBackoff(t *testing.T) {
	lo := func(n int64) int64 { return 0 }
	hi := func(n int64) int64 { return n - 1 }
	tests := []struct {
		name          string
		attempt       int
		after, minAft time.Duration
		randN         func(int64) int64
		want          time.Duration
	}{
		{"first, low jitter", 1, 0, 0, lo, 500 * time.Millisecond},
		{"first, high jitter", 1, 0, 0, hi, time.Second},
		{"fourth doubles", 4, 0, 0, hi, 8 * time.Second},
		{"capped", 12, 0, 0, hi, 5 * time.Minute},
		{"capped, huge attempt", 500, 0, 0, lo, 150 * time.Second},
		{"retry-after above backoff", 1, 20 * time.Second, 0, hi, 20 * time.Second},
		{"backoff above retry-after", 6, 2 * time.Second, 0, hi, 32 * time.Second},
		{"sink minimum raises retry-after", 1, 2 * time.Second, 30 * time.Second, hi, 30 * time.Second},
		{"sink minimum only when asked to wait", 1, 0, 30 * time.Second, hi, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := backoff(tc.attempt, tc.after, tc.minAft, time.Second, 5*time.Minute, tc.randN)
			if got != tc.want {
				t.Errorf("backoff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPermanentFailureDeadLetters(t *testing.T) {
	h := newHarness(t, fastConfig)
	// Errors that embed the webhook URL, as a *url.Error does.
	h.fakes["slack"].Fail(alert.Permanent(&url.Error{Op: "Post", URL: canaryHook, Err: errors.New("400 invalid_payload")}))
	h.run()
	a := exit("g", "p", alert.Error)
	h.submit(a)
	h.fakes["slack"].WaitCalls(t, 1)
	d := h.waitRow(h.rows()[0].ID, "dead", func(d *state.Delivery) bool { return d.Status == state.Dead })
	if !strings.Contains(d.LastError, "400 invalid_payload") || !strings.Contains(d.LastError, "[REDACTED]") {
		t.Errorf("dead letter error = %q", d.LastError)
	}
	// The queue moves on past a dead letter.
	other := exit("g", "q", alert.Error)
	h.submit(other)
	calls := h.fakes["slack"].WaitCalls(t, 2)
	if calls[1].Key != other.Key {
		t.Errorf("second call = %s", pipelinetest.Describe(calls))
	}
	waitLog(t, h.logs, "dead-lettered")
	for _, c := range canaries {
		if strings.Contains(h.logs.String(), c) || strings.Contains(d.LastError, c) {
			t.Errorf("secret %q leaked:\nrow: %s\nlogs:\n%s", c, d.LastError, h.logs)
		}
	}
}

// waitLog polls the log until it contains s.
func waitLog(t *testing.T, logs *testsupport.SyncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", s, logs)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestResumesRowLeftSending(t *testing.T) {
	h := newHarness(t, fastConfig)
	a := exit("g", "p", alert.Error)
	h.submit(a)
	id := h.rows()[0].ID
	// A sender that died mid-attempt: its pid is gone, its lease not expired.
	err := h.store.Update(t.Context(), func(tx *state.Tx) error {
		if _, err := tx.AcquireLease("slack", "dead-listener", deadPID(t), t0, t0.Add(time.Hour)); err != nil {
			return err
		}
		_, err := tx.Claim("slack", id, "dead-listener", t0, t0.Add(time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.run()
	calls := h.fakes["slack"].WaitCalls(t, 1)
	if calls[0].Key != a.Key {
		t.Errorf("resumed %s", pipelinetest.Describe(calls))
	}
	d := h.waitRow(id, "sent", func(d *state.Delivery) bool { return d.Status == state.Sent })
	if d.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the interrupted one counts)", d.Attempts)
	}
	waitLog(t, h.logs, "resuming a delivery")
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, baseConfig) // slack: 1/s by default
	var mu sync.Mutex
	var at []time.Time
	h.fakes["slack"].SetHook(func(context.Context, *alert.Notification) (alert.Receipt, error) {
		mu.Lock()
		defer mu.Unlock()
		at = append(at, h.clock.Now())
		return alert.Receipt{}, nil
	})
	h.run()
	for _, p := range []string{"a", "b", "c"} {
		h.submit(exit("g", p, alert.Error))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(h.fakes["slack"].Calls()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries", len(h.fakes["slack"].Calls()))
		}
		h.clock.WaitForWaiters(t, h.waiters()) // move time only while every loop sleeps
		h.clock.Advance(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < time.Second {
			t.Errorf("delivery %d came %v after the previous one, want >= 1s", i, gap)
		}
	}
}

func TestRefreshRepostsFiringTriggers(t *testing.T) {
	h := newHarness(t, `
sinks:
  - {name: am, type: alertmanager, urls: ["http://am:9093"], rate: 0}
`, func(o *Options) { o.Notifiers["am"].(*pipelinetest.Notifier).Refresh = time.Minute })
	h.run()
	a := exit("g", "p", alert.Warning)
	h.submit(a)
	h.fakes["am"].WaitCalls(t, 1)
	h.waitRow(h.rows()[0].ID, "sent", func(d *state.Delivery) bool { return d.Status == state.Sent })
	h.clock.WaitForWaiters(t, h.waiters())
	h.clock.Advance(time.Minute)
	calls := h.fakes["am"].WaitCalls(t, 2)
	if calls[1].Kind != alert.Trigger || calls[1].Reminder || calls[1].IncidentID != calls[0].IncidentID {
		t.Errorf("refresh = %s", pipelinetest.Describe(calls))
	}
	h.submit(resolved(a))
	calls = h.fakes["am"].WaitCalls(t, 3)
	if calls[2].Kind != alert.Resolve {
		t.Errorf("calls = %s", pipelinetest.Describe(calls))
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	h := newHarness(t, `
supervisor: {url: "http://127.0.0.1:9001", username: sg, password_env: SG_TEST_SV}
sinks:
  - {name: pd, type: pagerduty, routing_key_env: SG_TEST_PD}
  - {name: slack, type: slack, webhook_url_env: SG_TEST_HOOK}
  - {name: bot, type: slack, token_env: SG_TEST_TOKEN, channel: "#ops"}
  - {name: am, type: alertmanager, urls: ["http://am:9093"], username: sg, password_env: SG_TEST_AM}
`)
	leaky := map[string]error{
		"pd":    alert.Retry(errors.New("POST https://events.example/v2/enqueue routing_key="+canaryPD+": 500"), 0),
		"slack": alert.Permanent(&url.Error{Op: "Post", URL: canaryHook, Err: errors.New("dial tcp: refused")}),
		"bot":   alert.Retry(errors.New("Authorization: Bearer "+canaryToken+" rejected"), 0),
		"am":    alert.Permanent(&url.Error{Op: "Post", URL: "http://sg:" + canaryAM + "@am:9093/api/v2/alerts", Err: errors.New("EOF")}),
	}
	for sink, err := range leaky {
		h.fakes[sink].Fail(err)
	}
	h.run()
	h.submit(exit("g", "p", alert.Critical))
	for sink := range leaky {
		h.fakes[sink].WaitCalls(t, 1)
	}
	for _, d := range h.rows() {
		h.waitRow(d.ID, "failed", func(d *state.Delivery) bool { return d.LastError != "" })
	}
	var texts []string
	for _, d := range h.rows() {
		texts = append(texts, d.LastError)
	}
	texts = append(texts, h.logs.String(), config.Render(h.cfg))
	for _, text := range texts {
		for _, c := range canaries {
			if strings.Contains(text, c) {
				t.Errorf("secret %q leaked in:\n%s", c, text)
			}
		}
	}
}

func TestStoreFailure(t *testing.T) {
	a := exit("g", "p", alert.Critical)
	a.Summary = "risk limits exited"
	t.Run("closed store", func(t *testing.T) {
		h := newHarness(t, fastConfig)
		h.store.Close()
		err := h.p.Submit(t.Context(), &a)
		if !errors.Is(err, state.ErrClosed) {
			t.Fatalf("Submit = %v, want ErrClosed", err)
		}
		logs := h.logs.String()
		if !strings.Contains(logs, `"message":"alert not recorded"`) || !strings.Contains(logs, `"summary":"risk limits exited"`) {
			t.Errorf("alert not logged whole:\n%s", logs)
		}
	})
	t.Run("no store", func(t *testing.T) {
		h := newHarness(t, baseConfig, func(o *Options) { o.Store = nil })
		if err := h.p.Submit(t.Context(), &a); !errors.Is(err, ErrNoStore) {
			t.Fatalf("Submit = %v, want ErrNoStore", err)
		}
		if !strings.Contains(h.logs.String(), `"summary":"risk limits exited"`) {
			t.Errorf("alert not logged:\n%s", h.logs)
		}
	})
	t.Run("write lock held by another process", func(t *testing.T) {
		h := newHarness(t, baseConfig, func(o *Options) { o.SubmitTimeout = 200 * time.Millisecond })
		other, err := state.Open(t.Context(), h.store.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		held, release := make(chan struct{}), make(chan struct{})
		go other.Update(context.Background(), func(*state.Tx) error { close(held); <-release; return nil })
		<-held
		defer close(release)
		start := time.Now()
		err = h.p.Submit(t.Context(), &a)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Submit = %v, want the submit deadline", err)
		}
		if d := time.Since(start); d >= state.BusyTimeout {
			t.Errorf("Submit blocked %v: bounded by the busy timeout, not its own deadline", d)
		}
	})
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestStoreFailsWhileDelivering: when the store cannot record a claim or an
// outcome, the row stays at the head of the queue; the sender must then
// sleep (for the backoff the failure asked for, else errorPause) instead of
// spinning on the row and hammering the sink.
func TestStoreFailsWhileDelivering(t *testing.T) {
	boom := errors.New("503 service unavailable")
	tests := []struct {
		name  string
		when  string        // the outbox update the store refuses
		fail  []error       // the notifier's answers
		calls int           // attempts before the store recovers
		quiet time.Duration // fake time that must pass without another attempt
	}{
		{"claim", "NEW.status = 'sending'", nil, 0, errorPause - time.Millisecond},
		{"retry", "NEW.status = 'pending'", []error{alert.Retry(boom, 30*time.Second)}, 1, 30*time.Second - time.Millisecond},
		{"sent", "NEW.status = 'sent'", nil, 1, errorPause - time.Millisecond},
		{"dead", "NEW.status = 'dead'", []error{alert.Permanent(boom)}, 1, errorPause - time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, fastConfig)
			db := rawDB(t, h.store.Path())
			sqlExec := func(q string) {
				t.Helper()
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			sqlExec(`CREATE TRIGGER refuse BEFORE UPDATE OF status ON outbox WHEN ` + tc.when +
				` BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`)
			f := h.fakes["slack"]
			f.Fail(tc.fail...)
			h.run()
			h.submit(exit("g", "p", alert.Error))
			waitLog(t, h.logs, "sender: state store failed")
			h.clock.WaitForWaiters(t, h.waiters())
			if got := len(f.Calls()); got != tc.calls {
				t.Fatalf("%d attempts while the store failed, want %d: %s", got, tc.calls, pipelinetest.Describe(f.Calls()))
			}
			h.clock.Advance(tc.quiet)
			h.clock.WaitForWaiters(t, h.waiters())
			if got := len(f.Calls()); got != tc.calls {
				t.Fatalf("%d attempts %v after the failure, want %d", got, tc.quiet, tc.calls)
			}
			sqlExec(`DROP TRIGGER refuse`)
			h.clock.Advance(time.Millisecond)
			f.WaitCalls(t, tc.calls+1)
		})
	}
}

// rawDB opens the store's file directly, for tests that make SQLite refuse
// some writes.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestShutdownMidAttempt: an attempt cut short by the pipeline's own
// shutdown is put back to be resumed at once, not backed off as a sink
// failure, even when the sink's (redacted) error no longer wraps
// context.Canceled.
func TestShutdownMidAttempt(t *testing.T) {
	h := newHarness(t, fastConfig)
	f := h.fakes["slack"]
	f.SetHook(func(ctx context.Context, _ *alert.Notification) (alert.Receipt, error) {
		<-ctx.Done()
		return alert.Receipt{}, alert.Retry(errors.New(`slack webhook: Post "[REDACTED]": context canceled`), 0)
	})
	h.run()
	h.submit(exit("g", "p", alert.Error))
	f.WaitCalls(t, 1)
	h.cancel()
	<-h.done
	d := h.rows()[0]
	if d.Status != state.Pending || d.LastError != "interrupted by shutdown" || d.NextAttemptAt.After(h.clock.Now()) {
		t.Errorf("row after shutdown: status %s, next attempt %v (now %v), last error %q",
			d.Status, d.NextAttemptAt, h.clock.Now(), d.LastError)
	}
}
