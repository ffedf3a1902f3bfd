// Package state is the on-disk store every superguard listener on a host
// shares: one SQLite file (pure-Go driver modernc.org/sqlite) holding the
// alert outbox, the incident ledger used for deduplication, the ids of
// events already handled, the halt latch, restart budgets and listener
// heartbeats.
//
// Several listener processes open the same file at once. The database runs
// in WAL mode with synchronous=NORMAL (a committed transaction survives the
// process being killed, which is what an ack to supervisord needs), a busy
// timeout so that writers from different processes queue instead of failing,
// and foreign keys on. Writes inside one process are serialised by the Store
// before they reach SQLite, so a busy wait only ever happens between
// processes. Every write transaction starts with BEGIN IMMEDIATE, so two
// processes never deadlock upgrading a read lock.
//
// The file is created with mode 0600 (the WAL and shared-memory files
// inherit it) and a missing parent directory with mode 0700. The schema is
// migrated on Open from a versioned list kept in PRAGMA user_version.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/superguard/superguard/pkg/config"
)

// DefaultPath is where the store lives when neither a flag, $SUPERGUARD_STATE
// nor the config file's state_path names another file.
const DefaultPath = config.DefaultStatePath

// EnvPath is the environment variable that overrides the store's path (a
// flag still wins over it).
const EnvPath = "SUPERGUARD_STATE"

// BusyTimeout is how long a write waits for another process holding the
// database's write lock before it fails.
const BusyTimeout = 5 * time.Second

// Path picks the store's path: the flag value if set, else $SUPERGUARD_STATE,
// else the config file's state_path, else DefaultPath.
func Path(flag, configured string) string {
	for _, p := range []string{flag, os.Getenv(EnvPath), configured} {
		if p != "" {
			return p
		}
	}
	return DefaultPath
}

// CheckpointInterval is how often a Store copies committed pages from the
// WAL back into the database file. SQLite would otherwise do it inside
// whichever commit crosses 1000 pages, with an fsync, making that one
// Submit slow; a background checkpoint keeps it off the write path.
const CheckpointInterval = time.Second

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("state: store is closed")

// Store is an open state database. It is safe for concurrent use by many
// goroutines, and other processes may open the same file at the same time.
type Store struct {
	db   *sql.DB
	path string
	// wsem serialises this process's write transactions (capacity 1): SQLite
	// allows one writer, and waiting here (bounded by the caller's context)
	// is cheaper than SQLite's sleeping busy handler.
	wsem chan struct{}
	stop chan struct{} // closes to stop the checkpointer
	done chan struct{} // closed when the checkpointer has stopped

	closeOnce sync.Once
	closeErr  error
}

// Open opens the store at path, creating the file (mode 0600) and its
// directory (mode 0700) when missing, and migrates the schema. It fails on a
// file that is not a superguard state database or whose schema is newer than
// this binary knows.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("state: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("state %s: path must not contain '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state %s: create directory: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	dsn := "file:" + path + "?" + strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=wal_autocheckpoint(0)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}, "&")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	s := &Store{db: db, path: path, wsem: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	go s.checkpointLoop()
	return s, nil
}

// checkpointLoop runs a passive checkpoint (it never blocks writers or
// readers) every CheckpointInterval until Close.
func (s *Store) checkpointLoop() {
	defer close(s.done)
	t := time.NewTicker(CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), BusyTimeout)
		// A failure (another process checkpointing, a full disk) is retried
		// on the next tick; writes do not depend on it.
		_, _ = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		cancel()
	}
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// Close stops the checkpointer and closes the database. Methods called
// afterwards return ErrClosed; closing again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("state %s: close: %w", s.path, err)
		}
	})
	return s.closeErr
}

// Update runs fn in one write transaction (BEGIN IMMEDIATE) and commits it
// when fn returns nil; any error rolls everything back. The commit is durable
// against the process being killed when Update returns. Waiting for the write
// lock is bounded by ctx and, between processes, by BusyTimeout.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("state: wait for write lock: %w", ctx.Err())
	}
	defer func() { <-s.wsem }()
	return s.run(ctx, false, fn)
}

// View runs fn in one read-only transaction: a consistent snapshot that never
// waits for writers.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	return s.run(ctx, true, fn)
}

func (s *Store) run(ctx context.Context, readOnly bool, fn func(*Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return s.wrap("begin", err)
	}
	if err := fn(&Tx{tx: tx, ctx: ctx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("commit", err)
	}
	return nil
}

// wrap names the failed step and maps database/sql's closed-database error to
// ErrClosed.
func (s *Store) wrap(step string, err error) error {
	if errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "sql: database is closed") {
		return fmt.Errorf("state: %s: %w", step, ErrClosed)
	}
	return fmt.Errorf("state: %s: %w", step, err)
}

// Tx is one transaction, handed to the function given to Update or View.
// It must not be used after that function returns.
type Tx struct {
	tx  *sql.Tx
	ctx context.Context
}

func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.ctx, query, args...)
}

func (t *Tx) query(query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(t.ctx, query, args...)
}

func (t *Tx) queryRow(query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

// changes runs a statement and returns how many rows it changed.
func (t *Tx) changes(query string, args ...any) (int64, error) {
	res, err := t.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// queryAll scans every row of query with scan.
func queryAll[T any](t *Tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryOne scans the row of query with scan; found is false when there is
// none.
func queryOne[T any](t *Tx, scan func(scanner) (T, error), query string, args ...any) (v T, found bool, err error) {
	v, err = scan(t.queryRow(query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, false, nil
	}
	return v, err == nil, err
}

// nanos stores a time as Unix nanoseconds; the zero time is stored as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// scanTime scans a time stored by nanos.
func scanTime(sc scanner) (time.Time, error) {
	var n int64
	err := sc.Scan(&n)
	return fromNanos(n), err
}
