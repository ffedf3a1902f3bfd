package testsupport

import (
	"testing"
	"time"
)

// Poll intervals: Eventually looks again after minPollInterval, doubling the
// pause up to maxPollInterval, so a quick condition is seen at once and a
// slow one (an XML-RPC call, a log file) is not checked hundreds of times a
// second.
const (
	minPollInterval = 5 * time.Millisecond
	maxPollInterval = 50 * time.Millisecond
)

// Eventually calls cond until it reports true, and fails the test with
// t.Fatalf when timeout passes first, quoting what (what was awaited) and
// last (what cond saw on its last call).
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (ok bool, last string)) {
	t.Helper()
	if ok, last := poll(timeout, cond); !ok {
		t.Fatalf("timed out after %v waiting for %s; last saw:\n%s", timeout, what, last)
	}
}

// WaitFor is Eventually for a condition with nothing to report.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Eventually(t, timeout, what, func() (bool, string) { return cond(), "(condition false)" })
}

// poll calls cond until it reports true or timeout passes, and returns its
// last answer. It always calls cond at least once, and once more after the
// deadline, so a slow machine cannot make it give up without a final look.
func poll(timeout time.Duration, cond func() (ok bool, last string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	pause := minPollInterval
	for {
		ok, last := cond()
		if ok || time.Now().After(deadline) {
			return ok, last
		}
		time.Sleep(min(pause, time.Until(deadline)+time.Millisecond))
		pause = min(2*pause, maxPollInterval)
	}
}
