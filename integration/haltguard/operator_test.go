package haltguard

import (
	"fmt"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestOperatorCommandsNeedNoSinkSecrets: the manual kill switch works from
// a root shell that lacks the listeners' environment (no PagerDuty routing
// key): halt, status and resume print their result and exit, and the pages
// they queued are delivered by the running haltguard's senders.
func TestOperatorCommandsNeedNoSinkSecrets(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 2})
	run := func(args ...string) (string, int) {
		t.Helper()
		out, code := runCheck(t, harness.Bin(t, "./listeners/haltguard"), []string{"SUPERGUARD_CONFIG=" + sc.config}, args...) // no routing key
		if strings.Contains(out, pdKey) {
			t.Errorf("output shows the routing key:\n%s", out)
		}
		return out, code
	}
	if out, code := run("halt", "--reason", "operator drill", "--by", "carol"); code != 0 || !strings.Contains(out, "HALTED") {
		t.Fatalf("halt without the sinks' secrets: exit %d\n%s", code, out)
	}
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	if out, code := run("status"); code != 3 || !strings.Contains(out, "operator drill") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	sc.waitPage(t, host+"/-/halt", "HALTED trading")
	if out, code := run("resume", "--start", "--by", "carol"); code != 0 || !strings.Contains(out, "resumed") {
		t.Errorf("resume: exit %d\n%s", code, out)
	}
	sc.waitTargets(t, supervisor.ProcessRunning, waitHalt)
}

// TestRemoteResumeOffByDefault: anything that can reach supervisord's API
// (a strategy running as root, say) may halt trading with a
// superguard.halt event, but a superguard.resume event, even with force,
// resumes nothing unless remote_resume is on.
func TestRemoteResumeOffByDefault(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 2})
	if err := sc.Client.SendRemoteCommEvent(ctxT(t), "superguard.halt", `{"reason":"drill","by":"rogue"}`); err != nil {
		t.Fatal(err)
	}
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	if err := sc.Client.SendRemoteCommEvent(ctxT(t), "superguard.resume", `{"by":"rogue","start":true,"force":true}`); err != nil {
		t.Fatal(err)
	}
	sc.waitLog(t, `remote resume refused: listeners.haltguard.remote_resume is off`, waitHalt)
	if l := sc.latch(t); !l.Latched {
		t.Fatalf("resumed by a remote event: %+v", l)
	}
	for _, p := range sc.targets(t) {
		if p.State != supervisor.ProcessStopped {
			t.Errorf("%s is %s after a refused remote resume", p.FullName(), p.State)
		}
	}
}

// TestEveryHaltAndResumePaged: two halts and their resumes inside one
// dedup window (5m) are all paged: a safety page is never held by dedup or
// flap damping, and a resume resolves its halt without erasing it.
func TestEveryHaltAndResumePaged(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 2})
	for i, reason := range []string{"first drill", "second drill"} {
		if out, errOut, code := sc.cli(t, "halt", "--reason", reason, "--by", "dave"); code != 0 {
			t.Fatalf("halt %d: exit %d\n%s%s", i+1, code, out, errOut)
		}
		sc.waitPage(t, manualKey, reason)
		if out, errOut, code := sc.cli(t, "resume", "--start", "--by", "dave"); code != 0 {
			t.Fatalf("resume %d: exit %d\n%s%s", i+1, code, out, errOut)
		}
		testsupport.Eventually(t, waitHalt, fmt.Sprintf("resolve %d", i+1), func() (bool, string) {
			return sc.pd.Resolves(manualKey) >= i+1, fmt.Sprintf("%d resolves", sc.pd.Resolves(manualKey))
		})
		sc.waitTargets(t, supervisor.ProcessRunning, waitHalt)
	}
}
