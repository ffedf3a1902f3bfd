package main

import "syscall"

// childSysProcAttr makes the kernel SIGKILL a child when we die, even by
// SIGKILL. (The signal follows the thread that forked the child; the Go
// runtime ends threads only for goroutines that exit locked to one, which
// this program has none of.)
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
