package durable

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/superguard/superguard/pkg/state"
)

// ReopenEvery bounds how often a store that failed to open is tried again.
const ReopenEvery = 5 * time.Second

// Store opens the shared state store on first use and retries a failed
// open at most every ReopenEvery. A store that cannot be opened (a full
// disk, wrong permissions) degrades a listener instead of stopping it:
// events are still acknowledged, alerts are logged whole on stderr, and the
// next use tries again, so the listener recovers by itself once the disk
// has room.
type Store struct {
	path   string
	onOpen []func(*state.Store) // called once, when the store first opens

	mu    sync.Mutex
	store *state.Store
	err   error
	tried time.Time
}

// NewStore returns a Store for the database at path; nothing is opened yet.
func NewStore(path string) *Store { return &Store{path: path} }

// Path is the database's path.
func (l *Store) Path() string { return l.path }

// OnOpen registers fn to run once, when the store first opens. Call it
// before the first Get.
func (l *Store) OnOpen(fn func(*state.Store)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onOpen = append(l.onOpen, fn)
}

// Get returns the open store, opening it if needed.
func (l *Store) Get(ctx context.Context) (*state.Store, error) {
	l.mu.Lock()
	if l.store != nil {
		defer l.mu.Unlock()
		return l.store, nil
	}
	if !l.tried.IsZero() && time.Since(l.tried) < ReopenEvery {
		defer l.mu.Unlock()
		return nil, l.err
	}
	l.tried = time.Now()
	s, err := state.Open(ctx, l.path)
	if err != nil {
		l.err = fmt.Errorf("state store unavailable: %w", err)
		defer l.mu.Unlock()
		return nil, l.err
	}
	l.store, l.err = s, nil
	hooks := l.onOpen
	l.mu.Unlock()
	for _, fn := range hooks {
		fn(s)
	}
	return s, nil
}

// Heartbeats implements the heartbeat reader crashpager's watchdog uses,
// over the lazily opened store.
func (l *Store) Heartbeats(ctx context.Context) ([]state.Heartbeat, error) {
	s, err := l.Get(ctx)
	if err != nil {
		return nil, err
	}
	return s.Heartbeats(ctx)
}

// Close closes the store if it was opened.
func (l *Store) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		return nil
	}
	s := l.store
	l.store, l.err, l.tried = nil, errors.New("state store closed"), time.Now()
	return s.Close()
}

// Restarts implements the restart governor's store (governor.Store) over
// the lazily opened store: a store that cannot be opened makes every Ask
// Unknown, so nothing restarts.
func (l *Store) Restarts(ctx context.Context, process string, since time.Time) ([]time.Time, error) {
	s, err := l.Get(ctx)
	if err != nil {
		return nil, err
	}
	return s.Restarts(ctx, process, since)
}

// RecordRestart implements governor.Store.
func (l *Store) RecordRestart(ctx context.Context, process string, at time.Time, window time.Duration) (int, error) {
	s, err := l.Get(ctx)
	if err != nil {
		return 0, err
	}
	return s.RecordRestart(ctx, process, at, window)
}
