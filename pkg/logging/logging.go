// Package logging builds the zerolog logger every superguard listener uses:
// JSON lines on stderr (never stdout, which belongs to the supervisord
// protocol), each line carrying the listener's name.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// EnvLevel is the environment variable read for the log level when no flag
// sets it.
const EnvLevel = "SUPERGUARD_LOG_LEVEL"

// setTimeFormat sets zerolog's process-wide time format once: zerolog reads
// it on every event, so writing it again while another logger logs is a
// data race.
var setTimeFormat sync.Once

// New returns a JSON logger writing to w at the given level ("debug", "info",
// "warn", "error"; empty means $SUPERGUARD_LOG_LEVEL, else "info"), with every
// line carrying listener=name and an RFC 3339 timestamp with sub-second
// precision (zerolog's TimeFieldFormat becomes time.RFC3339Nano for the
// whole process, so every Time field reads the same way).
func New(w io.Writer, name, level string) (zerolog.Logger, error) {
	if level == "" {
		level = os.Getenv(EnvLevel)
	}
	if level == "" {
		level = "info"
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.Nop(), fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	setTimeFormat.Do(func() { zerolog.TimeFieldFormat = time.RFC3339Nano })
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("listener", name).Logger(), nil
}

// Stderr is New on os.Stderr.
func Stderr(name, level string) (zerolog.Logger, error) {
	return New(os.Stderr, name, level)
}
