package protocol

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/eventrecord"
	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// wait bounds every wait of these scenarios: generous, because the machine
// running them may be busy; a passing scenario never waits that long.
const wait = 30 * time.Second

const testlistener = "./integration/cmd/testlistener"

// backends are the supervisords the scenarios that make sense on both run
// against; the Go one is skipped where a listener process must exit.
var backends = []harness.Backend{harness.RealSupervisord, harness.GoSupervisord}

// onBackendsWhereListenersExit runs scenario as a parallel subtest on each
// backend, skipping those where a listener process may not exit.
func onBackendsWhereListenersExit(t *testing.T, scenario func(*testing.T, harness.Backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			harness.SkipIfListenerExitUnsupported(t, b)
			scenario(t, b)
		})
	}
}

// ctx returns a context bounded by wait.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), wait)
	t.Cleanup(cancel)
	return c
}

// waitRecords waits until the record file holds at least n event records
// that keep returns true for, and returns those.
func waitRecords(t *testing.T, path string, n int, what string, keep func(eventrecord.Record) bool) []eventrecord.Record {
	t.Helper()
	var got []eventrecord.Record
	testsupport.Eventually(t, wait, what, func() (bool, string) {
		recs, err := eventrecord.ReadFile(path)
		if err != nil {
			return false, err.Error()
		}
		got = got[:0]
		for _, r := range recs {
			if keep(r) {
				got = append(got, r)
			}
		}
		return len(got) >= n, fmt.Sprintf("%d of %d wanted records; all records:\n%s", len(got), n, dump(recs))
	})
	return got
}

func dump(recs []eventrecord.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s pid=%d %s serial=%d poolserial=%d attempt=%d redelivered=%v missed=%d answer=%s reason=%s\n",
			r.Kind, r.PID, r.EventName, r.Serial, r.PoolSerial, r.Attempt, r.Redelivered, r.Missed, r.Answer, r.Reason)
	}
	return b.String()
}
