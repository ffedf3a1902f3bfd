package state

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestHaltLatch(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	h, err := s.Halt(ctx)
	if err != nil || h.Latched {
		t.Fatalf("fresh latch = %+v, %v", h, err)
	}
	if _, ok, err := s.LastClear(ctx); ok || err != nil {
		t.Fatalf("LastClear of a never-cleared latch = %v, %v", ok, err)
	}
	first := Halt{Reason: "risk_manager FATAL", Process: "risk:risk_manager", ProcessState: "FATAL",
		TraceID: "tr-1", Actor: "haltguard", Since: t0}
	set, cur, err := s.SetHalt(ctx, first)
	if err != nil || !set || !cur.Latched || cur.Reason != first.Reason {
		t.Fatalf("SetHalt = %v %+v %v", set, cur, err)
	}
	set, cur, err = s.SetHalt(ctx, Halt{Reason: "second", TraceID: "tr-2", Since: t0.Add(time.Second)})
	if err != nil || set || cur.Reason != first.Reason || !cur.Since.Equal(t0) {
		t.Fatalf("second SetHalt = %v %+v %v, want the first cause kept", set, cur, err)
	}
	if done, err := s.CompleteHalt(ctx, "tr-2", t0); done || err != nil {
		t.Fatalf("CompleteHalt of another trace = %v, %v", done, err)
	}
	if done, err := s.CompleteHalt(ctx, "tr-1", t0.Add(2*time.Second)); !done || err != nil {
		t.Fatalf("CompleteHalt = %v, %v", done, err)
	}
	h, err = s.Halt(ctx)
	first.Latched, first.Completed = true, t0.Add(2*time.Second)
	if err != nil || h != first {
		t.Fatalf("Halt = %+v, want %+v", h, first)
	}
	cleared, err := s.ClearHalt(ctx, "cli:alice@host", "flat, restarting", t0.Add(time.Hour))
	if err != nil || !cleared {
		t.Fatalf("ClearHalt = %v, %v", cleared, err)
	}
	if cleared, _ := s.ClearHalt(ctx, "bob", "again", t0); cleared {
		t.Error("ClearHalt of a clear latch reported cleared")
	}
	if h, _ := s.Halt(ctx); h != (Halt{}) {
		t.Errorf("latch after clear = %+v, want zero", h)
	}
	last, ok, err := s.LastClear(ctx)
	if err != nil || !ok || last.Actor != "cli:alice@host" || !last.At.Equal(t0.Add(time.Hour)) {
		t.Errorf("LastClear = %+v %v %v", last, ok, err)
	}
	hist, err := s.HaltHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ action, actor, reason string }{
		{"clear", "cli:alice@host", "flat, restarting"},
		{"complete", "haltguard", "risk_manager FATAL"},
		{"set", "haltguard", "risk_manager FATAL"},
	}
	if len(hist) != len(want) {
		t.Fatalf("history = %+v", hist)
	}
	for i, w := range want {
		if e := hist[i]; e.Action != w.action || e.Actor != w.actor || e.Reason != w.reason || e.Process != "risk:risk_manager" {
			t.Errorf("history[%d] = %+v, want %+v", i, e, w)
		}
	}
}

func TestRestartBudget(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	window := 10 * time.Minute
	steps := []struct {
		process string
		at      time.Duration
		want    int
	}{
		{"g:a", 0, 1},
		{"g:a", time.Minute, 2},
		{"g:b", time.Minute, 1},
		{"g:a", 5 * time.Minute, 3},
		{"g:a", 11*time.Minute + time.Second, 2}, // +0 and +1m fell out of the window
	}
	for _, st := range steps {
		n, err := s.RecordRestart(ctx, st.process, t0.Add(st.at), window)
		if err != nil {
			t.Fatal(err)
		}
		if n != st.want {
			t.Errorf("RecordRestart(%s, +%v) = %d, want %d", st.process, st.at, n, st.want)
		}
	}
	n, err := s.RestartsSince(ctx, "g:a", t0.Add(4*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("RestartsSince = %d, %v; want 2", n, err)
	}
	ts, err := s.Restarts(ctx, "g:a", time.Time{})
	if err != nil || len(ts) != 2 || !ts[0].Equal(t0.Add(5*time.Minute)) {
		t.Errorf("Restarts = %v, %v", ts, err)
	}
	pruned, err := s.PruneRestarts(ctx, t0.Add(6*time.Minute))
	if err != nil || pruned != 2 {
		t.Errorf("PruneRestarts = %d, %v; want 2 (g:a at +5m, g:b at +1m)", pruned, err)
	}
}

func TestHeartbeats(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, ok, err := s.Heartbeat(ctx, "crashpager"); ok || err != nil {
		t.Fatalf("Heartbeat of a silent listener = %v, %v", ok, err)
	}
	for i, l := range []string{"haltguard", "crashpager", "haltguard"} {
		if err := s.Beat(ctx, l, t0.Add(time.Duration(i)*5*time.Second), 100+i, t0.Add(time.Duration(i)*6*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	hb, ok, err := s.Heartbeat(ctx, "haltguard")
	want := Heartbeat{Listener: "haltguard", Tick: t0.Add(10 * time.Second), PID: 102, UpdatedAt: t0.Add(12 * time.Second)}
	if err != nil || !ok || hb != want {
		t.Errorf("Heartbeat = %+v %v %v, want %+v", hb, ok, err, want)
	}
	all, err := s.Heartbeats(ctx)
	if err != nil || len(all) != 2 || all[0].Listener != "crashpager" || all[1] != want {
		t.Errorf("Heartbeats = %+v, %v", all, err)
	}
}

func TestPrune(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	old := t0.Add(-40 * 24 * time.Hour)
	done := putIncident(t, s, "inc-old", "k1")
	done.Status, done.ResolvedAt = IncidentResolved, old
	deadInc := putIncident(t, s, "inc-dead", "k2")
	deadInc.Status, deadInc.ResolvedAt = IncidentResolved, old
	update(t, s, func(tx *Tx) error {
		if err := tx.PutIncident(done); err != nil {
			return err
		}
		if err := tx.PutIncident(deadInc); err != nil {
			return err
		}
		if _, err := tx.MarkProcessed("src", "k1", old); err != nil {
			return err
		}
		if _, err := tx.MarkProcessed("src", "k2", t0); err != nil {
			return err
		}
		return tx.PutKey(KeyState{Key: "k1"}, old)
	})
	sent := enqueue(t, s, done, "log", PurposeTrigger, old)
	dead := enqueue(t, s, deadInc, "pd", PurposeTrigger, old)
	update(t, s, func(tx *Tx) error {
		if err := tx.MarkSent(sent, "", old); err != nil {
			return err
		}
		_, err := tx.exec(`UPDATE outbox SET status = 'dead', updated_at = ? WHERE id = ?`, nanos(old), dead)
		return err
	})
	if _, err := s.RecordRestart(ctx, "g:a", old, time.Hour); err != nil {
		t.Fatal(err)
	}
	p, err := s.Prune(ctx, t0, DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	want := Pruned{Processed: 1, Deliveries: 1, Incidents: 1, Keys: 1, Restarts: 1}
	if p != want {
		t.Errorf("Prune = %+v, want %+v", p, want)
	}
	if d := delivery(t, s, dead); d.Status != Dead {
		t.Errorf("dead row pruned or changed: %+v", d)
	}
}

// TestConcurrentStores has two Store instances on one file write from many
// goroutines at once: nothing fails with SQLITE_BUSY and nothing is lost.
func TestConcurrentStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	const perGoroutine = 50
	var wg sync.WaitGroup
	errs := make(chan error, 8*perGoroutine)
	for g := 0; g < 8; g++ {
		s := stores[g%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				if _, err := s.RecordRestart(context.Background(), "g:p", t0.Add(time.Duration(g*perGoroutine+i)), time.Hour); err != nil {
					errs <- err
				}
				err := s.Update(context.Background(), func(tx *Tx) error {
					_, err := tx.MarkProcessed(fmt.Sprintf("src-%d", g), strconv.Itoa(i), t0)
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	n, err := stores[0].RestartsSince(context.Background(), "g:p", time.Time{})
	if err != nil || n != 8*perGoroutine {
		t.Errorf("restarts recorded = %d, %v; want %d", n, err, 8*perGoroutine)
	}
}

// TestConcurrentProcesses writes from this process and a child process at
// the same time.
func TestConcurrentProcesses(t *testing.T) {
	if os.Getenv("STATE_TEST_CHILD") != "" {
		return
	}
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 200
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildWriter$")
	cmd.Env = append(os.Environ(), "STATE_TEST_CHILD="+path, "STATE_TEST_N="+strconv.Itoa(n))
	out := make(chan []byte, 1)
	go func() {
		b, err := cmd.CombinedOutput()
		if err != nil {
			b = append(b, []byte("\n"+err.Error())...)
		}
		out <- b
	}()
	for i := 0; i < n; i++ {
		if _, err := s.RecordRestart(context.Background(), "parent", t0.Add(time.Duration(i)), time.Hour); err != nil {
			t.Fatalf("parent write %d: %v", i, err)
		}
	}
	b := <-out
	if cmd.ProcessState == nil || !cmd.ProcessState.Success() {
		t.Fatalf("child failed:\n%s", b)
	}
	for _, p := range []string{"parent", "child"} {
		got, err := s.RestartsSince(context.Background(), p, time.Time{})
		if err != nil || got != n {
			t.Errorf("%s restarts = %d, %v; want %d", p, got, err, n)
		}
	}
}

// TestChildWriter is the child half of TestConcurrentProcesses; it does
// nothing unless started by it.
func TestChildWriter(t *testing.T) {
	path := os.Getenv("STATE_TEST_CHILD")
	if path == "" {
		t.Skip("child process of TestConcurrentProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv("STATE_TEST_N"))
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < n; i++ {
		if _, err := s.RecordRestart(context.Background(), "child", t0.Add(time.Duration(i)), time.Hour); err != nil {
			t.Fatalf("child write %d: %v", i, err)
		}
	}
}

// TestMigrateFromFirstSchema: a store written by a binary of schema 1 (a
// heartbeat, no counters) opens with its rows kept, no events dropped yet,
// and counters to write.
func TestMigrateFromFirstSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{migrations[0], `PRAGMA user_version = 1`,
		`INSERT INTO heartbeats (listener, tick, pid, updated_at) VALUES ('crashpager', 1, 7, 2)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hbs, err := s.Heartbeats(ctx)
	if err != nil || len(hbs) != 1 || hbs[0].PID != 7 || hbs[0].Dropped != 0 {
		t.Fatalf("heartbeats after migration = %+v, %v", hbs, err)
	}
	if err := s.BeatDropped(ctx, "crashpager", time.Now(), 7, time.Now(), 3); err != nil {
		t.Fatal(err)
	}
	if err := s.BeatDropped(ctx, "crashpager", time.Now(), 7, time.Now(), 2); err != nil {
		t.Fatal(err)
	}
	if hb, _, _ := s.Heartbeat(ctx, "crashpager"); hb.Dropped != 5 {
		t.Errorf("dropped = %d after 3 and 2, want 5 (added up)", hb.Dropped)
	}
	st := 3
	want := ProcessCounters{Restarts: 4, Exits: map[string]int64{"unexpected": 4}, RunPIDs: []int{97, 99}, ExitStatus: &st}
	if err := s.SaveCounters(ctx, "g:p", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Counters(ctx)
	if err != nil || got["g:p"].Restarts != 4 || got["g:p"].Exits["unexpected"] != 4 || *got["g:p"].ExitStatus != 3 {
		t.Errorf("Counters = %+v, %v", got, err)
	}
}
