package testsupport

import (
	"slices"
	"sync"
)

// Recorder collects what a fake was handed (pages, posts, calls) from any
// goroutine. The zero value is ready to use.
type Recorder[T any] struct {
	mu    sync.Mutex
	items []T
}

// Add records v.
func (r *Recorder[T]) Add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, v)
}

// All returns a copy of what was recorded, oldest first.
func (r *Recorder[T]) All() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.items)
}
