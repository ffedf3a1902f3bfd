//go:build !linux

package main

import "context"

// waitExit reports that process exits cannot be watched on this system.
func waitExit(context.Context, int, <-chan struct{}) error { return errWatchUnsupported }
