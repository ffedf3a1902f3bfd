package halt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileLatch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := &FileLatch{Paths: []string{filepath.Join(dir, "halt.latch"), filepath.Join(dir, "run", "halt.latch")}}
	if _, err := l.Get(ctx); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Get before Prepare = %v, want the primary missing (unknown)", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.Prepare(); err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Paths {
		fi, err := os.Stat(p)
		if err != nil || fi.Size() != LatchFileSize || fi.Mode().Perm() != 0o644 {
			t.Fatalf("%s after Prepare: %v %v", p, fi, err)
		}
	}
	if st, err := l.Get(ctx); err != nil || st.Latched {
		t.Fatalf("Get after Prepare = %+v, %v", st, err)
	}
	rec := Record{Reason: "risk_manager FATAL", Trigger: "risk:rm", By: "haltguard", TraceID: "t1", Since: time.Now().UTC().Truncate(time.Second)}
	if err := l.Set(ctx, rec); err != nil {
		t.Fatal(err)
	}
	// A second halt keeps the first cause.
	if err := l.Set(ctx, Record{Reason: "other", TraceID: "t2"}); err != nil {
		t.Fatal(err)
	}
	st, err := l.Get(ctx)
	if err != nil || !st.Latched || st.Record.TraceID != "t1" || !st.Record.Since.Equal(rec.Since) {
		t.Fatalf("Get = %+v, %v; want latched by t1", st, err)
	}
	if err := l.Complete(ctx, "t1", time.Now()); err != nil {
		t.Fatal(err)
	}
	// The mirror alone still holds the latch (the primary rewritten
	// unlatched, as an older copy would be).
	if err := l.write(l.Paths[0], latchRecord{}, false); err != nil {
		t.Fatal(err)
	}
	if st, err := l.Get(ctx); err != nil || !st.Latched || st.Record.Completed.IsZero() {
		t.Fatalf("Get with only the mirror latched = %+v, %v", st, err)
	}
	if err := l.Clear(ctx, "cli:alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	if st, err := l.Get(ctx); err != nil || st.Latched || st.ResumedBy != "cli:alice" {
		t.Fatalf("Get after Clear = %+v, %v", st, err)
	}
	// A mirror gone (a reboot emptied /run) is no error.
	if err := os.Remove(l.Paths[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Get(ctx); err != nil {
		t.Fatalf("Get without the mirror: %v", err)
	}
	// A torn or tampered copy makes the latch unknown.
	b, _ := os.ReadFile(l.Paths[0])
	if err := os.WriteFile(l.Paths[0], []byte(strings.Replace(string(b), `"latched":false`, `"latched":fals3`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Get(ctx); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("Get of a tampered file = %v", err)
	}
	if halted, _, err := Halted(ctx, l); !halted || err == nil {
		t.Errorf("Halted on a tampered file = %v, %v: want halted with the error", halted, err)
	}
}

func TestLatchesStoreAndFiles(t *testing.T) {
	ctx := context.Background()
	files := &FileLatch{Paths: []string{filepath.Join(t.TempDir(), "halt.latch")}}
	store := &errLatch{}
	var warned []error
	l := Latches{Files: files, Store: store, Warn: func(err error) { warned = append(warned, err) }}

	// A latch the store holds from before the files existed is copied.
	store.St = LatchState{Latched: true, Record: Record{Reason: "old", TraceID: "t0"}}
	if err := l.SyncFiles(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := files.Get(ctx); err != nil || !st.Latched || st.Record.TraceID != "t0" {
		t.Fatalf("files after SyncFiles = %+v, %v", st, err)
	}
	// The store failing on resume keeps trading halted.
	store.ClearErr = errors.New("database or disk is full")
	if err := l.Clear(ctx, "bob", time.Now()); err == nil {
		t.Fatal("Clear succeeded with the store full")
	}
	if st, _ := l.Get(ctx); !st.Latched {
		t.Fatal("resumed although the store could not record it")
	}
	store.ClearErr = nil
	if err := l.Clear(ctx, "bob", time.Now()); err != nil {
		t.Fatal(err)
	}
	// The store failing on halt: recorded in the files, the halt holds.
	store.SetErr = errors.New("database or disk is full")
	if err := l.Set(ctx, Record{Reason: "new", TraceID: "t1", Since: time.Now()}); err != nil {
		t.Fatalf("Set = %v, want recorded in the files", err)
	}
	store.GetErr = errors.New("database disk image is malformed")
	if st, err := l.Get(ctx); err != nil || !st.Latched || st.Record.TraceID != "t1" {
		t.Fatalf("Get with the store broken = %+v, %v", st, err)
	}
	if len(warned) == 0 {
		t.Error("the store's failures were not reported")
	}
	// Once the store works again, a sync copies the halt into it...
	store.SetErr, store.GetErr = nil, nil
	if err := l.SyncFiles(ctx); err != nil || !store.St.Latched || store.St.Record.TraceID != "t1" {
		t.Fatalf("SyncFiles = %v, store %+v: want the halt copied", err, store.St)
	}
	// ...but not into a store resumed after it (a resume in progress:
	// store cleared, files next).
	store.St = LatchState{ResumedAt: time.Now(), ResumedBy: "bob"}
	if err := l.SyncFiles(ctx); err != nil || store.St.Latched {
		t.Fatalf("SyncFiles = %v, store %+v: a resume undone", err, store.St)
	}
}

// errLatch is a store latch whose calls fail on demand.
type errLatch struct {
	St                       LatchState
	GetErr, SetErr, ClearErr error
}

func (l *errLatch) Get(context.Context) (LatchState, error) { return l.St, l.GetErr }
func (l *errLatch) Set(_ context.Context, r Record) error {
	if l.SetErr != nil {
		return l.SetErr
	}
	l.St = LatchState{Latched: true, Record: r}
	return nil
}
func (l *errLatch) Complete(context.Context, string, time.Time) error { return nil }
func (l *errLatch) Clear(_ context.Context, by string, at time.Time) error {
	if l.ClearErr != nil {
		return l.ClearErr
	}
	l.St = LatchState{ResumedAt: at, ResumedBy: by}
	return nil
}
