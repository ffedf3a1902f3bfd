package eventlog

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
)

// TestMalformedHeaderExitsNonZero drives the eventlog binary directly, as
// supervisord would, with input supervisord never sends: after READY it must
// write nothing more to stdout, log the bad header on stderr, and exit 1 so
// that supervisord restarts it in sync (see also the supervisord scenario in
// integration/protocol).
func TestMalformedHeaderExitsNonZero(t *testing.T) {
	t.Parallel()
	bin := harness.Bin(t, eventlogPkg)
	tests := []struct {
		name  string
		input string
	}{
		{"garbage line", "this is not a header\n"},
		{"missing len", "ver:3.0 server:supervisor serial:1 pool:eventlog poolserial:1 eventname:TICK_5\n"},
		{"negative len", "ver:3.0 server:supervisor serial:1 pool:eventlog poolserial:1 eventname:TICK_5 len:-4\n"},
		{"after a good event", "ver:3.0 server:supervisor serial:1 pool:eventlog poolserial:1 eventname:TICK_5 len:15\nwhen:1700000000" +
			"RESULT 2\nOK\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin)
			cmd.Env = []string{"PATH=/usr/bin:/bin"} // no SUPERVISOR_SERVER_URL: no reconciliation
			cmd.Stdin = strings.NewReader(tt.input)
			code, stdout, stderr := testsupport.Run(t, cmd)
			if code != 1 {
				t.Fatalf("exit status %d, want 1\nstderr:\n%s", code, stderr)
			}
			wantOut := "READY\n"
			if strings.HasPrefix(tt.name, "after") {
				wantOut = "READY\nRESULT 2\nOKREADY\n"
			}
			if stdout != wantOut {
				t.Errorf("stdout = %q, want %q", stdout, wantOut)
			}
			if !strings.Contains(stderr, `"level":"error"`) || !strings.Contains(stderr, "unparsable header") {
				t.Errorf("stderr does not log the bad header as an error:\n%s", stderr)
			}
		})
	}
}
