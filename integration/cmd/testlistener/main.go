// Command testlistener is a scriptable supervisord event listener built on
// pkg/eventlistener, for protocol tests. It records every delivery it gets
// (header, payload, Redelivered, Attempt, its own PID and its answer) as a
// JSON line in a record file (see integration/eventrecord), can answer FAIL
// to the first N deliveries of matching events, and has a pause point for
// kill tests:
//
//	[eventlistener:tl]
//	command=/path/to/testlistener -record %(here)s/tl.jsonl -state-file %(here)s/tl.state -fail-first 2 -fail-match ^REMOTE_COMMUNICATION$
//	events=PROCESS_STATE,REMOTE_COMMUNICATION
//	buffer_size=1024
//	stdout_logfile=NONE
//	stderr_logfile=%(here)s/tl.err
//	environment=SUPERGUARD_TEST_PAUSE="PROCESS_STATE_RUNNING"
//
// With SUPERGUARD_TEST_PAUSE set to an event name, the handler of the first
// matching event records it with answer PAUSED, writes a marker file
// (SUPERGUARD_TEST_PAUSE_MARKER, default <record>.paused, holding the serial)
// and blocks until the listener is stopped, so a test can SIGKILL it
// mid-event. While the marker exists it does not pause again, so the re-sent
// event is handled normally after the restart.
//
// With -reconcile it also records every reconciliation (start-up with
// -reconcile-on-start, and poolserial gaps), reading processes through
// SUPERVISOR_SERVER_URL.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/superguard/superguard/integration/cmd/internal/helperprog"
)

func main() {
	os.Exit(helperprog.Main("testlistener", parseConfig, func(cfg Config) int {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := Run(ctx, cfg, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "testlistener:", err)
			return 1
		}
		return 0
	}))
}
