//go:build !linux

package main

import "syscall"

// childSysProcAttr is nil where there is no parent-death signal: children
// are still killed when we exit normally or on SIGTERM, not when we are
// killed.
func childSysProcAttr() *syscall.SysProcAttr { return nil }
