package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
)

// openTest opens a store in a fresh temporary directory and closes it when
// the test ends.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func pragma(t *testing.T, s *Store, name string) string {
	t.Helper()
	var v string
	if err := s.db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestOpenConfiguresDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub", "dir")
	path := filepath.Join(dir, "state.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	// One write makes SQLite create the WAL and shared-memory files.
	if err := s.Beat(context.Background(), "x", time.Now(), 1, time.Now()); err != nil {
		t.Fatalf("Beat: %v", err)
	}
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"user_version", fmt.Sprint(SchemaVersion())},
	} {
		t.Run(tc.pragma, func(t *testing.T) {
			if got := pragma(t, s, tc.pragma); got != tc.want {
				t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
			}
		})
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(f), m)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o700 {
		t.Errorf("created directory mode = %o, want 700", m)
	}
}

func TestOpenTwiceMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	for i := 0; i < 2; i++ {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if got := pragma(t, s, "user_version"); got != fmt.Sprint(SchemaVersion()) {
			t.Errorf("user_version = %s after open #%d", got, i+1)
		}
		s.Close()
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	s, err := Open(context.Background(), newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"empty path", "", "empty path"},
		{"query in path", filepath.Join(dir, "a?b.db"), "must not contain"},
		{"newer schema", newer, "schema version 99 is newer"},
		{"not a database", garbage, "not a database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestPath(t *testing.T) {
	tests := []struct {
		name, flag, env, configured, want string
	}{
		{"default", "", "", "", DefaultPath},
		{"config", "", "", "/c.db", "/c.db"},
		{"env over config", "", "/e.db", "/c.db", "/e.db"},
		{"flag over all", "/f.db", "/e.db", "/c.db", "/f.db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvPath, tc.env)
			if got := Path(tc.flag, tc.configured); got != tc.want {
				t.Errorf("Path = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClosedStore(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ctx := context.Background()
	checks := map[string]error{
		"Update": s.Update(ctx, func(*Tx) error { return nil }),
		"View":   s.View(ctx, func(*Tx) error { return nil }),
		"Beat":   s.Beat(ctx, "x", time.Now(), 1, time.Now()),
	}
	for name, err := range checks {
		t.Run(name, func(t *testing.T) {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close = %v, want ErrClosed", name, err)
			}
		})
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.MarkProcessed("src", "k", time.Now()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	err = s.Update(ctx, func(tx *Tx) error {
		fresh, err := tx.MarkProcessed("src", "k", time.Now())
		if err == nil && !fresh {
			t.Error("processed mark survived a rolled-back transaction")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUpdateHonoursContextWhileLocked(t *testing.T) {
	s := openTest(t)
	hold := make(chan struct{})
	held := make(chan struct{})
	go s.Update(context.Background(), func(*Tx) error { close(held); <-hold; return nil })
	<-held
	defer close(hold)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Update(ctx, func(*Tx) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update while locked = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Update waited %v past its deadline", d)
	}
}

func TestMarkProcessed(t *testing.T) {
	s := openTest(t)
	steps := []struct {
		source, key string
		fresh       bool
	}{
		{"sv1/pool/1", "h/a:a/exited", true},
		{"sv1/pool/1", "h/a:a/exited", false},
		{"sv1/pool/1", "h/a:a/fatal", true},
		{"sv1/pool/2", "h/a:a/exited", true},
	}
	for _, st := range steps {
		err := s.Update(context.Background(), func(tx *Tx) error {
			fresh, err := tx.MarkProcessed(st.source, st.key, time.Now())
			if err == nil && fresh != st.fresh {
				t.Errorf("MarkProcessed(%s, %s) fresh = %v, want %v", st.source, st.key, fresh, st.fresh)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckpointOffTheWritePath: commits only append to the WAL; the
// background checkpointer moves the pages into the database file.
func TestCheckpointOffTheWritePath(t *testing.T) {
	s := openTest(t)
	if got := pragma(t, s, "wal_autocheckpoint"); got != "0" {
		t.Fatalf("wal_autocheckpoint = %s, want 0 (checkpoints run in the background)", got)
	}
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	for i := 0; i < 200; i++ {
		if _, err := s.RecordRestart(context.Background(), strings.Repeat("p", 500), time.Unix(int64(i), 0), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	testsupport.Eventually(t, 5*CheckpointInterval, "a checkpoint to grow the database file", func() (bool, string) {
		n := size()
		return n > before, fmt.Sprintf("still %d bytes", n)
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
