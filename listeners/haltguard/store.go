package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/superguard/superguard/pkg/state"
)

// reopenEvery bounds how often a store that failed to open is tried again.
const reopenEvery = 5 * time.Second

// lazyStore opens the state store on first use and retries a failed open at
// most every reopenEvery. A store that cannot be opened (disk full,
// permissions) degrades haltguard instead of stopping it: halts still run,
// with the latch held in memory and retried, and alerts logged on stderr.
type lazyStore struct {
	path   string
	onOpen func(*state.Store) // called once, when the store first opens

	mu    sync.Mutex
	store *state.Store
	err   error
	tried time.Time
}

func newLazyStore(path string, onOpen func(*state.Store)) *lazyStore {
	return &lazyStore{path: path, onOpen: onOpen}
}

// get returns the open store, opening it if needed.
func (l *lazyStore) get(ctx context.Context) (*state.Store, error) {
	l.mu.Lock()
	if l.store != nil {
		defer l.mu.Unlock()
		return l.store, nil
	}
	if !l.tried.IsZero() && time.Since(l.tried) < reopenEvery {
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
	l.mu.Unlock()
	if l.onOpen != nil {
		l.onOpen(s)
	}
	return s, nil
}

// close closes the store if it was opened.
func (l *lazyStore) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		return nil
	}
	s := l.store
	l.store, l.err, l.tried = nil, errors.New("state store closed"), time.Now()
	return s.Close()
}
