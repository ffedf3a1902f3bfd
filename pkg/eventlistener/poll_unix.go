//go:build unix

package eventlistener

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// pollReader reads a file descriptor with plain read(2) calls, each after a
// poll(2) that also watches a wake-up pipe closed on cancellation. Per event
// that is two syscalls on one thread (as many as a C listener doing one read
// and two writes, since the answer is one write), where Go's runtime poller
// adds a read that fails with EAGAIN, epoll_wait and thread wake-ups, and a
// reader goroutine adds a goroutine hand-off: both lost 10-40% of a C
// listener's lockstep throughput (listeners/eventlog BenchmarkVersusC).
//
// Reads go through syscall.RawConn.Read, which holds a reference to the
// file for the duration of the call, so the descriptor cannot be closed (by
// a finalizer or a concurrent Close) and reused under the poll.
type pollReader struct {
	src    syscall.Conn // keeps the file reachable
	raw    syscall.RawConn
	wake   *os.File // read end of the wake-up pipe
	fds    [2]unix.PollFd
	readFn func(fd uintptr) bool // p.read, bound once

	// in and out of read
	buf []byte
	n   int
	err error
}

var errCancelled = errors.New("read cancelled")

func (p *pollReader) Read(b []byte) (int, error) {
	p.buf, p.n, p.err = b, 0, nil
	if err := p.raw.Read(p.readFn); err != nil {
		return 0, err
	}
	p.buf = nil
	return p.n, p.err
}

// read is the RawConn callback: poll, then read once data is there. It
// always reports done (a blocking descriptor cannot be waited on by the
// runtime poller).
func (p *pollReader) read(fd uintptr) bool {
	p.fds[0].Fd = int32(fd)
	fds := p.fds[:]
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			p.err = os.NewSyscallError("poll", err)
			return true
		}
		if fds[1].Revents != 0 {
			p.err = errCancelled
			return true
		}
		if fds[0].Revents == 0 {
			continue
		}
		n, err := unix.Read(int(fd), p.buf)
		switch {
		case err == unix.EINTR || err == unix.EAGAIN: // EAGAIN: a non-blocking descriptor raced
			continue
		case err != nil:
			p.err = os.NewSyscallError("read", err)
		case n == 0 && len(p.buf) > 0:
			p.err = io.EOF
		default:
			p.n = n
		}
		return true
	}
}

// newPollReader returns a pollReader on r's descriptor when r has one
// (*os.File, most net.Conn), and a stop function that releases it.
func newPollReader(ctx context.Context, r io.Reader) (io.Reader, func(), bool) {
	sc, ok := r.(syscall.Conn)
	if !ok {
		return nil, nil, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, nil, false
	}
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return nil, nil, false
	}
	p := &pollReader{src: sc, raw: raw, wake: wakeR}
	p.fds[0].Events = unix.POLLIN
	p.fds[1] = unix.PollFd{Fd: int32(wakeR.Fd()), Events: unix.POLLIN}
	p.readFn = p.read
	unregister := context.AfterFunc(ctx, func() { _ = wakeW.Close() })
	return p, func() {
		unregister()
		_ = wakeW.Close()
		_ = wakeR.Close()
	}, true
}
