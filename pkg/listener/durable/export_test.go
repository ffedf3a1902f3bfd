package durable

import "time"

// RetryNow makes the next Get of s try to open a store that failed,
// without waiting out ReopenEvery.
func RetryNow(s *Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tried = time.Time{}
}
