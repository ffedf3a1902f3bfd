package state

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

var t0 = time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)

// update runs fn in a write transaction and fails the test on error.
func update(t *testing.T, s *Store, fn func(*Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// putIncident stores an open incident for key and returns it.
func putIncident(t *testing.T, s *Store, id, key string) *Incident {
	t.Helper()
	inc := &Incident{
		ID: id, Key: key, Status: IncidentOpen, Severity: alert.Error,
		FirstSeen: t0, LastSeen: t0, Count: 1,
		Alert:     alert.Alert{Key: key, Kind: alert.Trigger, Condition: alert.CondExited, Summary: "s", Time: t0},
		Listeners: map[string]int{"crashpager": 1},
	}
	update(t, s, func(tx *Tx) error { return tx.PutIncident(inc) })
	return inc
}

// enqueue queues a delivery of incident inc to sink and returns its id.
func enqueue(t *testing.T, s *Store, inc *Incident, sink string, p Purpose, at time.Time) int64 {
	t.Helper()
	d := &Delivery{Sink: sink, Purpose: p, CreatedAt: at,
		Notification: alert.Notification{Alert: inc.Alert, IncidentID: inc.ID, Count: 1, FirstSeen: inc.FirstSeen}}
	update(t, s, func(tx *Tx) error { _, err := tx.Enqueue(d); return err })
	return d.ID
}

func delivery(t *testing.T, s *Store, id int64) *Delivery {
	t.Helper()
	var d *Delivery
	if err := s.View(context.Background(), func(tx *Tx) error {
		var err error
		d, err = tx.Delivery(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d == nil {
		t.Fatalf("delivery %d not found", id)
	}
	return d
}

func TestKeyAndIncidentRoundTrip(t *testing.T) {
	s := openTest(t)
	ks := KeyState{Key: "h/g:p/exited", LastIncidentID: "inc-1", LastTriggerAt: t0, LastSeverity: alert.Critical,
		Unreported: 3, Changes: []time.Time{t0, t0.Add(time.Second)}}
	inc := putIncident(t, s, "inc-1", ks.Key)
	inc.Actions = []string{"restarted"}
	inc.Alert.Details = map[string]string{"pid": "42"}
	update(t, s, func(tx *Tx) error {
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		return tx.PutKey(ks, t0)
	})
	err := s.View(context.Background(), func(tx *Tx) error {
		got, err := tx.Key(ks.Key)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, ks) {
			t.Errorf("Key = %+v, want %+v", got, ks)
		}
		unseen, err := tx.Key("never")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(unseen, KeyState{Key: "never"}) {
			t.Errorf("unseen key = %+v", unseen)
		}
		open, err := tx.OpenIncident(ks.Key)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(open, inc) {
			t.Errorf("OpenIncident = %+v, want %+v", open, inc)
		}
		due, err := tx.KeysWithUnreported(t0)
		if err != nil {
			return err
		}
		if len(due) != 1 || due[0].Key != ks.Key {
			t.Errorf("KeysWithUnreported = %+v", due)
		}
		if due, _ := tx.KeysWithUnreported(t0.Add(-time.Second)); len(due) != 0 {
			t.Errorf("KeysWithUnreported before the last trigger = %+v", due)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOneOpenIncidentPerKey(t *testing.T) {
	s := openTest(t)
	putIncident(t, s, "inc-1", "k")
	err := s.Update(context.Background(), func(tx *Tx) error {
		return tx.PutIncident(&Incident{ID: "inc-2", Key: "k", Status: IncidentOpen, Count: 1,
			Alert: alert.Alert{Key: "k"}})
	})
	if err == nil {
		t.Fatal("a second open incident for one key was accepted")
	}
	inc := putIncident(t, s, "inc-1", "k")
	inc.Status, inc.ResolvedAt = IncidentResolved, t0
	update(t, s, func(tx *Tx) error { return tx.PutIncident(inc) })
	putIncident(t, s, "inc-2", "k") // allowed once the first resolved
}

func TestOutboxLifecycle(t *testing.T) {
	s := openTest(t)
	inc := putIncident(t, s, "inc-1", "k")
	trig := enqueue(t, s, inc, "slack", PurposeTrigger, t0)
	res := enqueue(t, s, inc, "slack", PurposeResolve, t0.Add(time.Second))
	other := enqueue(t, s, inc, "pd", PurposeTrigger, t0)

	head := func(sink string) int64 {
		t.Helper()
		var id int64
		err := s.View(context.Background(), func(tx *Tx) error {
			d, err := tx.Head(sink)
			if d != nil {
				id = d.ID
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if got := head("slack"); got != trig {
		t.Fatalf("Head(slack) = %d, want trigger %d", got, trig)
	}
	if got := head("pd"); got != other {
		t.Fatalf("Head(pd) = %d, want %d", got, other)
	}
	if d := delivery(t, s, res); d.Notification.Kind != alert.Resolve || d.Status != Pending || !d.NextAttemptAt.Equal(d.CreatedAt) {
		t.Errorf("queued resolve = %+v", d)
	}

	// Claiming needs the sink's lease.
	claim := func(id int64, owner string) bool {
		t.Helper()
		var ok bool
		update(t, s, func(tx *Tx) error {
			var err error
			ok, err = tx.Claim("slack", id, owner, t0, t0.Add(time.Minute))
			return err
		})
		return ok
	}
	if claim(trig, "me") {
		t.Fatal("Claim succeeded without the lease")
	}
	update(t, s, func(tx *Tx) error {
		ok, err := tx.AcquireLease("slack", "me", os.Getpid(), t0, t0.Add(time.Minute))
		if err == nil && !ok {
			t.Error("AcquireLease on a free sink failed")
		}
		return err
	})
	if !claim(trig, "me") {
		t.Fatal("Claim with the lease failed")
	}
	if d := delivery(t, s, trig); d.Status != Sending || d.Attempts != 1 {
		t.Fatalf("claimed row = %s attempts %d", d.Status, d.Attempts)
	}
	// A row left sending stays at the head: it is resumed, not skipped.
	if got := head("slack"); got != trig {
		t.Fatalf("Head with a row sending = %d, want %d", got, trig)
	}
	update(t, s, func(tx *Tx) error { return tx.MarkRetry(trig, t0.Add(time.Minute), "retryable: 500", t0) })
	if d := delivery(t, s, trig); d.Status != Pending || !d.NextAttemptAt.Equal(t0.Add(time.Minute)) || d.LastError != "retryable: 500" {
		t.Fatalf("after MarkRetry = %+v", d)
	}
	if !claim(trig, "me") {
		t.Fatal("second Claim failed")
	}
	update(t, s, func(tx *Tx) error { return tx.MarkSent(trig, "C1/123.456", t0.Add(2*time.Minute)) })
	if d := delivery(t, s, trig); d.Status != Sent || d.Attempts != 2 || d.Ref != "C1/123.456" || d.LastError != "" {
		t.Fatalf("after MarkSent = %+v", d)
	}
	if got := head("slack"); got != res {
		t.Fatalf("Head after the trigger was sent = %d, want resolve %d", got, res)
	}
	err := s.View(context.Background(), func(tx *Tx) error {
		ref, err := tx.SentRef(inc.ID, "slack")
		if ref != "C1/123.456" {
			t.Errorf("SentRef = %q", ref)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !claim(res, "me") {
		t.Fatal("Claim of resolve failed")
	}
	update(t, s, func(tx *Tx) error { return tx.MarkDead(res, "permanent: 400", t0) })
	if d := delivery(t, s, res); d.Status != Dead {
		t.Fatalf("after MarkDead = %s", d.Status)
	}
	if got := head("slack"); got != 0 {
		t.Errorf("Head of an empty queue = %d", got)
	}
	update(t, s, func(tx *Tx) error {
		ok, err := tx.Cancel(other, "resolved before sent", t0)
		if err == nil && !ok {
			t.Error("Cancel of a pending row failed")
		}
		if ok, _ := tx.Cancel(trig, "x", t0); ok {
			t.Error("Cancel of a sent row succeeded")
		}
		return err
	})
	if d := delivery(t, s, other); d.Status != Cancelled || d.LastError != "resolved before sent" {
		t.Errorf("cancelled row = %+v", d)
	}
}

func TestRefreshDue(t *testing.T) {
	s := openTest(t)
	inc := putIncident(t, s, "inc-1", "k1")
	old := enqueue(t, s, inc, "am", PurposeTrigger, t0)
	update(t, s, func(tx *Tx) error { return tx.MarkSent(old, "", t0) })
	fresh := putIncident(t, s, "inc-2", "k2")
	recent := enqueue(t, s, fresh, "am", PurposeTrigger, t0)
	update(t, s, func(tx *Tx) error { return tx.MarkSent(recent, "", t0.Add(50*time.Second)) })

	due := func() []int64 {
		t.Helper()
		var ids []int64
		err := s.View(context.Background(), func(tx *Tx) error {
			ds, err := tx.RefreshDue("am", t0.Add(30*time.Second))
			for _, d := range ds {
				ids = append(ids, d.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := due(); !reflect.DeepEqual(got, []int64{old}) {
		t.Fatalf("RefreshDue = %v, want [%d]", got, old)
	}
	// Once something for the incident is queued, nothing more is due.
	queued := enqueue(t, s, inc, "am", PurposeRefresh, t0.Add(time.Minute))
	if got := due(); len(got) != 0 {
		t.Fatalf("RefreshDue with a refresh queued = %v", got)
	}
	update(t, s, func(tx *Tx) error { return tx.MarkSent(queued, "", t0.Add(time.Minute)) })
	if got := due(); len(got) != 0 {
		t.Fatalf("RefreshDue right after a refresh = %v", got)
	}
	// A resolved incident is never refreshed.
	inc.Status = IncidentResolved
	update(t, s, func(tx *Tx) error { return tx.PutIncident(inc) })
	err := s.View(context.Background(), func(tx *Tx) error {
		ds, err := tx.RefreshDue("am", t0.Add(time.Hour))
		for _, d := range ds {
			if d.Notification.IncidentID == inc.ID {
				t.Errorf("resolved incident due for refresh: %+v", d)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLease(t *testing.T) {
	s := openTest(t)
	acquire := func(owner string, pid int, now time.Time) bool {
		t.Helper()
		var ok bool
		update(t, s, func(tx *Tx) error {
			var err error
			ok, err = tx.AcquireLease("pd", owner, pid, now, now.Add(10*time.Second))
			return err
		})
		return ok
	}
	me := os.Getpid()
	// A process that has exited: its pid no longer exists.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid

	steps := []struct {
		name  string
		owner string
		pid   int
		now   time.Time
		want  bool
	}{
		{"free", "a", me, t0, true},
		{"held by a live process", "b", me, t0.Add(time.Second), false},
		{"renewed by its holder", "a", me, t0.Add(2 * time.Second), true},
		{"expired", "b", me, t0.Add(13 * time.Second), true},
		{"held by b", "a", me, t0.Add(14 * time.Second), false},
	}
	for _, st := range steps {
		if got := acquire(st.owner, st.pid, st.now); got != st.want {
			t.Fatalf("%s: AcquireLease(%s) = %v, want %v", st.name, st.owner, got, st.want)
		}
	}
	// A holder whose process is gone loses the lease at once.
	update(t, s, func(tx *Tx) error { return tx.ReleaseLease("pd", "b") })
	if !acquire("killed", dead, t0) {
		t.Fatal("acquire for the soon-dead holder failed")
	}
	if !acquire("successor", me, t0.Add(time.Second)) {
		t.Error("lease of a dead process was not taken over before expiry")
	}
}

func TestRetryAndDrop(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	inc := putIncident(t, s, "inc-1", "k")
	trig := enqueue(t, s, inc, "pd", PurposeTrigger, t0)
	update(t, s, func(tx *Tx) error {
		if _, err := tx.AcquireLease("pd", "me", os.Getpid(), t0, t0.Add(time.Minute)); err != nil {
			return err
		}
		if _, err := tx.Claim("pd", trig, "me", t0, t0.Add(time.Minute)); err != nil {
			return err
		}
		return tx.MarkDead(trig, "permanent: 400 bad request", t0)
	})
	if _, err := s.Retry(ctx, 999, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retry(999) = %v, want ErrNotFound", err)
	}
	// Retrying the trigger of an incident resolved since also queues a resolve.
	inc.Status, inc.ResolvedAt, inc.Count = IncidentResolved, t0.Add(time.Minute), 4
	update(t, s, func(tx *Tx) error { return tx.PutIncident(inc) })
	ids, err := s.Retry(ctx, trig, t0.Add(2*time.Minute))
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if len(ids) != 2 || ids[0] != trig {
		t.Fatalf("Retry queued %v, want the trigger and a resolve", ids)
	}
	if d := delivery(t, s, trig); d.Status != Pending || !d.NextAttemptAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("retried row = %+v", d)
	}
	r := delivery(t, s, ids[1])
	if r.Purpose != PurposeResolve || r.Notification.Kind != alert.Resolve || r.Notification.Count != 4 || r.Sink != "pd" {
		t.Errorf("queued resolve = %+v", r)
	}
	if _, err := s.Retry(ctx, trig, t0); err == nil {
		t.Error("Retry of a pending row succeeded")
	}
	if err := s.Drop(ctx, trig, t0); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	if d := delivery(t, s, trig); d.Status != Cancelled || d.LastError != "dropped by operator; last error: permanent: 400 bad request" {
		t.Errorf("dropped row = %+v", d)
	}
	if err := s.Drop(ctx, trig, t0); err == nil {
		t.Error("Drop of a cancelled row succeeded")
	}
	if err := s.Drop(ctx, 999, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Drop(999) = %v, want ErrNotFound", err)
	}
	dead, err := s.ListDeliveries(ctx, Filter{Statuses: []Status{Dead}})
	if err != nil || len(dead) != 0 {
		t.Errorf("dead rows = %v, %v", dead, err)
	}
	pending, err := s.ListDeliveries(ctx, Filter{Statuses: []Status{Pending}, Sink: "pd"})
	if err != nil || len(pending) != 1 || pending[0].ID != ids[1] {
		t.Errorf("pending rows = %v, %v", pending, err)
	}
}

func TestRetryAllDead(t *testing.T) {
	s := openTest(t)
	inc := putIncident(t, s, "inc-1", "k")
	var ids []int64
	for _, sink := range []string{"a", "b"} {
		id := enqueue(t, s, inc, sink, PurposeTrigger, t0)
		ids = append(ids, id)
		update(t, s, func(tx *Tx) error {
			if _, err := tx.AcquireLease(sink, "me", os.Getpid(), t0, t0.Add(time.Minute)); err != nil {
				return err
			}
			if _, err := tx.Claim(sink, id, "me", t0, t0.Add(time.Minute)); err != nil {
				return err
			}
			return tx.MarkDead(id, "permanent", t0)
		})
	}
	got, err := s.RetryAllDead(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ids) {
		t.Errorf("RetryAllDead = %v, want %v", got, ids)
	}
}

// TestRetryRevivesDeadResolve: when a sink refused both the trigger and the
// resolve of an incident (a bad key, since fixed), retrying puts both back
// in line and adds no second resolve.
func TestRetryRevivesDeadResolve(t *testing.T) {
	for _, all := range []bool{false, true} {
		name := map[bool]string{false: "Retry trigger", true: "RetryAllDead"}[all]
		t.Run(name, func(t *testing.T) {
			s := openTest(t)
			ctx := context.Background()
			inc := putIncident(t, s, "inc-1", "k")
			trig := enqueue(t, s, inc, "pd", PurposeTrigger, t0)
			res := enqueue(t, s, inc, "pd", PurposeResolve, t0)
			inc.Status, inc.ResolvedAt = IncidentResolved, t0
			update(t, s, func(tx *Tx) error {
				if err := tx.PutIncident(inc); err != nil {
					return err
				}
				if _, err := tx.AcquireLease("pd", "me", os.Getpid(), t0, t0.Add(time.Minute)); err != nil {
					return err
				}
				for _, id := range []int64{trig, res} {
					if _, err := tx.Claim("pd", id, "me", t0, t0.Add(time.Minute)); err != nil {
						return err
					}
					if err := tx.MarkDead(id, "permanent: 400 invalid routing key", t0); err != nil {
						return err
					}
				}
				return nil
			})
			var got []int64
			var err error
			if all {
				got, err = s.RetryAllDead(ctx, t0)
			} else {
				got, err = s.Retry(ctx, trig, t0)
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := []int64{trig, res}; !reflect.DeepEqual(got, want) {
				t.Errorf("requeued %v, want %v", got, want)
			}
			rows, err := s.ListDeliveries(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].Status != Pending || rows[1].Status != Pending {
				t.Errorf("outbox after retry: %d rows %+v", len(rows), rows)
			}
		})
	}
}

// TestNextUrgentFirstAndPerIncidentOrder: a warning's trigger in retry
// backoff holds up only its own incident (its resolve waits behind it); a
// halt queued later goes first, then the older error.
func TestNextUrgentFirstAndPerIncidentOrder(t *testing.T) {
	s := openTest(t)
	warn := putIncident(t, s, "inc-w", "h/a:a/exited")
	warnTrigger := enqueue(t, s, warn, "pd", PurposeTrigger, t0)
	enqueue(t, s, warn, "pd", PurposeResolve, t0)
	other := putIncident(t, s, "inc-e", "h/b:b/exited")
	errTrigger := enqueue(t, s, other, "pd", PurposeTrigger, t0)
	halt := putIncident(t, s, "inc-h", "h/-/halt")
	halt.Alert.Condition = alert.CondHalt
	haltTrigger := enqueue(t, s, halt, "pd", PurposeTrigger, t0)
	// The warning's trigger failed once: PagerDuty said 429, retry in 2m.
	update(t, s, func(tx *Tx) error {
		_, err := tx.exec(`UPDATE outbox SET attempts = 1, next_attempt_at = ? WHERE id = ?`, nanos(t0.Add(2*time.Minute)), warnTrigger)
		return err
	})

	next := func() (int64, time.Time) {
		t.Helper()
		var d *Delivery
		var until time.Time
		update(t, s, func(tx *Tx) error {
			var err error
			d, until, err = tx.Next("pd", t0)
			return err
		})
		if d == nil {
			return 0, until
		}
		return d.ID, until
	}
	if id, until := next(); id != haltTrigger || !until.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("Next = %d (until %s), want the halt %d first", id, until, haltTrigger)
	}
	update(t, s, func(tx *Tx) error { return tx.MarkSent(haltTrigger, "", t0) })
	if id, _ := next(); id != errTrigger {
		t.Fatalf("Next = %d, want the error's trigger %d", id, errTrigger)
	}
	update(t, s, func(tx *Tx) error { return tx.MarkSent(errTrigger, "", t0) })
	if id, until := next(); id != 0 || !until.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("Next = %d (until %s): want nothing due (the warning's resolve waits behind its trigger) until %s", id, until, t0.Add(2*time.Minute))
	}
}

func TestDeliveryHealth(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.DeliveryHealth(ctx, t0, time.Minute); err != nil {
		t.Fatalf("empty outbox: %v", err)
	}
	inc := putIncident(t, s, "inc-1", "h/a:a/exited")
	enqueue(t, s, inc, "pd", PurposeTrigger, t0)
	if err := s.DeliveryHealth(ctx, t0.Add(30*time.Second), time.Minute); err != nil {
		t.Fatalf("a row waiting 30s: %v", err)
	}
	if err := s.DeliveryHealth(ctx, t0.Add(2*time.Minute), time.Minute); err == nil || !strings.Contains(err.Error(), "nothing delivered for more than 1m0s") {
		t.Fatalf("a row waiting 2m, nothing sent: %v", err)
	}
	// Another row delivered recently: a sink works, the stuck one is its own problem.
	other := putIncident(t, s, "inc-2", "h/b:b/exited")
	sent := enqueue(t, s, other, "slack", PurposeTrigger, t0)
	update(t, s, func(tx *Tx) error { return tx.MarkSent(sent, "", t0.Add(110*time.Second)) })
	if err := s.DeliveryHealth(ctx, t0.Add(2*time.Minute), time.Minute); err != nil {
		t.Fatalf("one sink delivering: %v", err)
	}
}
