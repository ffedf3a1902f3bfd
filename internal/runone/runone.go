// Package runone runs a background job at most once at a time: a TICK's
// check that is still running when the next TICK comes is not started
// again.
package runone

import (
	"sync"
	"sync/atomic"
)

// Runner runs one job at a time. The zero value is ready to use.
type Runner struct{ running atomic.Bool }

// Go runs fn on wg unless the job it started last is still running, and
// reports whether it started fn.
func (r *Runner) Go(wg *sync.WaitGroup, fn func()) bool {
	if !r.running.CompareAndSwap(false, true) {
		return false
	}
	wg.Go(func() {
		defer r.running.Store(false)
		fn()
	})
	return true
}
