package eventlistener

import (
	"context"
	"io"
	"sync"
	"time"
)

// deadliner is implemented by readers whose blocked Read can be interrupted
// with a deadline; those without a descriptor of their own (net.Pipe's
// conns, *tls.Conn) take this path.
type deadliner interface {
	SetReadDeadline(t time.Time) error
}

// newReader returns a function reading the next frame from r that returns
// promptly (with an error) once ctx is cancelled, and a stop function that
// releases what it set up. In order of preference:
//
//   - ctx that cannot be cancelled: plain reads.
//   - r with a file descriptor (*os.File such as os.Stdin, net.Conn):
//     poll(2) on it and on a wake-up pipe closed on cancellation, then
//     read(2), in the caller's goroutine (see pollReader).
//   - r with a working SetReadDeadline: reads in the caller's goroutine;
//     cancellation sets a deadline in the past to interrupt a blocked Read.
//   - anything else: a goroutine reads one frame per request; on
//     cancellation the caller stops waiting for it, and the goroutine stays
//     blocked in r's Read until r returns.
func newReader(ctx context.Context, r io.Reader, d Dialect) (next func() (frame, error), stop func()) {
	if ctx.Done() == nil {
		return newFrameReader(r, d).next, func() {}
	}
	if pr, stop, ok := newPollReader(ctx, r); ok {
		return newFrameReader(pr, d).next, stop
	}
	fr := newFrameReader(r, d)
	if dl, ok := r.(deadliner); ok && dl.SetReadDeadline(time.Time{}) == nil {
		var mu sync.Mutex
		stopped := false
		unregister := context.AfterFunc(ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			if !stopped {
				_ = dl.SetReadDeadline(time.Now())
			}
		})
		return fr.next, func() {
			unregister()
			mu.Lock()
			defer mu.Unlock()
			stopped = true
			_ = dl.SetReadDeadline(time.Time{}) // leave the caller's reader usable
		}
	}

	type reply struct {
		f   frame
		err error
	}
	requests := make(chan struct{})
	replies := make(chan reply, 1) // the reader never blocks on a reply nobody waits for
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-requests:
			case <-done:
				return
			}
			f, err := fr.next()
			replies <- reply{f, err}
		}
	}()
	next = func() (frame, error) {
		select {
		case requests <- struct{}{}:
		case <-ctx.Done():
			return frame{}, ctx.Err()
		}
		select {
		case r := <-replies:
			return r.f, r.err
		case <-ctx.Done():
			return frame{}, ctx.Err()
		}
	}
	return next, func() { close(done) }
}
