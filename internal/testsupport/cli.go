package testsupport

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// CLICase is one command line of a binary and what it must answer.
type CLICase struct {
	Name       string
	Args       []string
	Stdin      string
	WantCode   int
	WantStdout string // a substring of stdout
	WantStderr string // a substring of stderr
}

// RunCLI runs each case through run (a binary's entry point, e.g. a
// listener's listener.Run) in its own subtest, with the environment that
// names a supervisord or a superguard config cleared (ClearEnv).
func RunCLI(t *testing.T, cases []CLICase, run func(args []string, stdin io.Reader, stdout, stderr io.Writer) int) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			ClearEnv(t)
			var stdout, stderr bytes.Buffer
			code := run(tc.Args, strings.NewReader(tc.Stdin), &stdout, &stderr)
			if code != tc.WantCode || !strings.Contains(stdout.String(), tc.WantStdout) || !strings.Contains(stderr.String(), tc.WantStderr) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q\nwant exit %d, stdout with %q, stderr with %q",
					tc.Args, code, stdout.String(), stderr.String(), tc.WantCode, tc.WantStdout, tc.WantStderr)
			}
		})
	}
}

// ClearEnv empties, for the test, every SUPERVISOR_* variable (which would
// make a listener reach a supervisord) and SUPERGUARD_* one (which would
// point it at a developer's config or state store).
func ClearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SUPERVISOR_") || strings.HasPrefix(k, "SUPERGUARD_") {
			t.Setenv(k, "")
		}
	}
}
