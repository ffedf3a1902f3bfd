package testsupport

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// Run runs cmd to its end and returns its exit code and what it wrote on
// stdout and stderr; a command that could not be run ends the test.
func Run(t testing.TB, cmd *exec.Cmd) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	code = ExitCode(t, cmd.Run(), cmd.Args...)
	return code, out.String(), errb.String()
}

// RunCombined is Run with stdout and stderr in one stream, as a terminal
// shows them.
func RunCombined(t testing.TB, cmd *exec.Cmd) (code int, output string) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	code = ExitCode(t, cmd.Run(), cmd.Args...)
	return code, out.String()
}

// ExitCode is the exit code of a command that ended with err: 0 for nil,
// -1 when a signal killed it; any other error (the command did not start)
// ends the test, naming the command by args.
func ExitCode(t testing.TB, err error, args ...string) int {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	t.Fatalf("%s: %v", strings.Join(args, " "), err)
	return -1
}
