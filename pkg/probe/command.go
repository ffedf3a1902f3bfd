package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/superguard/superguard/internal/procexec"
)

// Command probes by running Argv: exit status 0 is healthy. It runs in a
// process group of its own, killed whole at the deadline, with the
// environment Env (and SUPERGUARD_PROCESS, SUPERGUARD_GROUP,
// SUPERGUARD_PID set to the process's).
type Command struct {
	Argv []string // each argument may hold placeholders
	Env  []string
}

// Kind implements Prober.
func (c *Command) Kind() string { return "command" }

// maxOutput is how much of a command's output is kept.
const maxOutput = 4 << 10

// Probe implements Prober.
func (c *Command) Probe(ctx context.Context, p Process) Result {
	r := Result{At: time.Now()}
	out, err := Run(ctx, c.Argv, c.Env, p)
	r = finish(r)
	r.Body = out
	switch {
	case err == nil:
		r.OK, r.Evidence = true, fmt.Sprintf("exit 0 in %s", r.Latency.Round(time.Millisecond))
	case ctx.Err() != nil:
		r.Evidence = fmt.Sprintf("%s: still running, killed", timeoutText(ctx, r.At))
	default:
		r.Evidence = err.Error()
	}
	return r
}

// Run runs argv (placeholders expanded from p) with env and the process's
// SUPERGUARD_* variables in a process group of its own, killed whole when
// ctx ends, and returns its combined output (the first 4 KiB). The error
// says how it ended when that is not exit status 0.
func Run(ctx context.Context, argv, env []string, p Process) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("no command")
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = Expand(a, p)
	}
	var buf limitedBuffer
	err := procexec.Command(ctx, args, append(slices.Clip(env), "SUPERGUARD_PROCESS="+p.FullName(), "SUPERGUARD_GROUP="+p.Group,
		fmt.Sprintf("SUPERGUARD_PID=%d", p.PID)), &buf).Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		err = fmt.Errorf("exit status %d", ee.ExitCode())
	case errors.As(err, &ee):
		err = fmt.Errorf("killed by %s", ee.ProcessState.Sys().(syscall.WaitStatus).Signal())
	default:
		err = fmt.Errorf("cannot run %s: %w", args[0], err)
	}
	return buf.String(), err
}

// limitedBuffer keeps the first maxOutput bytes written to it.
type limitedBuffer struct{ b bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return l.b.String() }
