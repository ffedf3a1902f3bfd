package testsupport

import (
	"testing"
	"time"
)

// Poll intervals: Eventually looks again after MinPollInterval, doubling the
// pause up to MaxPollInterval, so a quick condition is seen at once and a
// slow one (an XML-RPC call, a log file) is not checked hundreds of times a
// second.
const (
	MinPollInterval = 5 * time.Millisecond
	MaxPollInterval = 50 * time.Millisecond
)

// Eventually calls cond until it reports true, and fails the test with
// t.Fatalf when timeout passes first, quoting what (what was awaited) and
// last (what cond saw on its last call).
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (ok bool, last string)) {
	t.Helper()
	if ok, last := Poll(timeout, cond); !ok {
		t.Fatalf("timed out after %v waiting for %s; last saw:\n%s", timeout, what, last)
	}
}

// WaitFor is Eventually for a condition with nothing to report.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Eventually(t, timeout, what, func() (bool, string) { return cond(), "(condition false)" })
}

// Poll calls cond until it reports true or timeout passes, and returns its
// last answer. It always calls cond at least once, and once more after the
// deadline, so a slow machine cannot make it give up without a final look.
func Poll(timeout time.Duration, cond func() (ok bool, last string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	pause := MinPollInterval
	for {
		ok, last := cond()
		if ok || time.Now().After(deadline) {
			return ok, last
		}
		time.Sleep(min(pause, time.Until(deadline)+time.Millisecond))
		pause = min(2*pause, MaxPollInterval)
	}
}
