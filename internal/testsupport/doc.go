// Package testsupport holds what several test packages need alike: polling
// with a deadline instead of sleeping (Eventually, WaitFor), a buffer that a
// goroutine writes while the test reads it (SyncBuffer), and golden files
// rewritten with -update (Golden).
//
// It is imported by tests only. Importing it registers the -update flag, so a
// test package must not define its own.
package testsupport
