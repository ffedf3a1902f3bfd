package halt

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// audit starts an audit line: every automated action is logged with message
// "audit", the action and the incident's trace id. Failures are logged at
// error level, the rest at info.
func audit(log zerolog.Logger, level zerolog.Level, traceID, action string) *zerolog.Event {
	return log.WithLevel(level).Str("action", action).Str("trace_id", traceID)
}

// Test pause point (tests only): with SUPERGUARD_TEST_PAUSE=haltguard-after-latch
// a new halt writes the file named by SUPERGUARD_TEST_PAUSE_FILE and blocks
// right after the latch is recorded and before any stop, so a test can
// SIGKILL haltguard there and check that the restarted haltguard finishes
// the halt.
const (
	EnvTestPause     = "SUPERGUARD_TEST_PAUSE"
	EnvTestPauseFile = "SUPERGUARD_TEST_PAUSE_FILE"
	PauseAfterLatch  = "haltguard-after-latch"
)

func pauseEnabled() bool { return os.Getenv(EnvTestPause) == PauseAfterLatch }

// pauseAfterLatch blocks until ctx ends when the pause point is enabled.
func pauseAfterLatch(ctx context.Context, log zerolog.Logger, traceID string) error {
	if !pauseEnabled() {
		return nil
	}
	if f := os.Getenv(EnvTestPauseFile); f != "" {
		stamp := fmt.Sprintf("%s %s\n", traceID, time.Now().Format(time.RFC3339Nano))
		if err := os.WriteFile(f, []byte(stamp), 0o600); err != nil {
			return fmt.Errorf("test pause: write marker: %w", err)
		}
	}
	log.Warn().Str("trace_id", traceID).Str("pause", PauseAfterLatch).Msg("test pause point reached: blocking")
	<-ctx.Done()
	return ctx.Err()
}
