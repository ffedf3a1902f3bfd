// Package procexec runs an operator's command from a guard (haltguard's
// flatten command, healthprobe's command checks and restart hooks): with
// only the environment it is given, its output captured (a guard's stdout
// belongs to the supervisord protocol), in a process group of its own that
// is killed whole when its context ends, so a shell script's children die
// with it.
package procexec

import (
	"context"
	"io"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

// baseEnv are the variables of the guard's environment every command gets.
var baseEnv = []string{"PATH", "HOME", "LANG", "TZ"}

// defaultPath is PATH when the guard has none.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// Env is a command's environment: PATH, HOME, LANG and TZ, and the
// variables named in pass, from getenv (the guard's secrets are never
// among them unless passed by name); PATH has a default.
func Env(getenv func(string) string, pass []string) []string {
	var out []string
	for _, name := range append(slices.Clone(baseEnv), pass...) {
		v := getenv(name)
		if name == "PATH" && v == "" {
			v = defaultPath
		}
		if v != "" {
			out = append(out, name+"="+v)
		}
	}
	return out
}

// Command is argv with env, its stdout and stderr to out, in a process
// group of its own killed whole (SIGKILL) when ctx ends. A grandchild that
// keeps the output open holds Wait at most a second past the kill.
func Command(ctx context.Context, argv, env []string, out io.Writer) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	return cmd
}
