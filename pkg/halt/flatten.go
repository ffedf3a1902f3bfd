package halt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/superguard/superguard/internal/procexec"
)

// flattenTailBytes is how much of the flatten command's output the page
// carries.
const flattenTailBytes = 2048

// FlattenResult is the outcome of the flatten command.
type FlattenResult struct {
	Command  []string
	ExitCode int    // -1 when it did not exit normally (killed, not started)
	Err      string // why it failed: start error, timeout, non-zero exit; "" on success
	TimedOut bool
	Output   string // tail of its combined stdout and stderr
	Duration time.Duration
}

// OK reports whether the command exited 0 in time.
func (r *FlattenResult) OK() bool { return r.Err == "" }

// runFlatten runs cfg.Command with a minimal environment (procexec.Env) and
// env, bounded by cfg's timeout. Its stdout never reaches haltguard's stdout
// (the supervisord protocol): both streams are captured. On timeout the
// whole process group is killed.
func runFlatten(ctx context.Context, cfg FlattenConfig, timeout time.Duration, env []string) *FlattenResult {
	res := &FlattenResult{Command: cfg.Command, ExitCode: -1}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := &tailBuffer{max: flattenTailBytes}
	cmd := procexec.Command(ctx, cfg.Command, append(procexec.Env(os.Getenv, cfg.PassEnv), env...), out)

	err := cmd.Run()
	res.Output = out.String()
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.TimedOut = true
		res.Err = fmt.Sprintf("timed out after %v and was killed", timeout)
	case err != nil:
		res.Err = err.Error()
	}
	return res
}

// tailBuffer is an io.Writer keeping the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.ToValidUTF8(string(t.buf), "") // the cut may split a character
	if t.cut {
		return "..." + s
	}
	return s
}
