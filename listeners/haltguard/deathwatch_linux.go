package main

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// pollEvery bounds how long waitExit goes without looking at stop and ctx.
const pollEvery = 250 // milliseconds

// waitExit blocks until process pid exits (nil), stop is closed or ctx
// ends (an error). A pid that no longer exists counts as exited.
func waitExit(ctx context.Context, pid int, stop <-chan struct{}) error {
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w: %w", errWatchUnsupported, err)
	case err != nil:
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		select {
		case <-stop:
			return errors.New("watch stopped")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		n, err := unix.Poll(fds, pollEvery)
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return fmt.Errorf("poll pidfd of %d: %w", pid, err)
		case n > 0:
			return nil
		}
	}
}
