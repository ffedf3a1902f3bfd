package haltguard

import (
	"encoding/json"
	"fmt"
	"os"
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

// TestNoSecretInPagesLogsOrStore: a secret the config resolves (the
// PagerDuty routing key, which supervisord's environment hands to every
// child) printed by the risk manager as it dies, and present in
// haltguard's environment when the flatten command runs, reaches neither
// the page, haltguard's log, nor the state store: the tail is scrubbed and
// the flatten command gets a minimal environment.
func TestNoSecretInPagesLogsOrStore(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 2, haltguard: "flatten: {command: [sh, -c, 'env; echo flattened'], timeout: 5s}"})
	sc.breakRisk(t)
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	ev := sc.waitPage(t, riskKeys, "HALTED trading")
	sc.waitAudit(t, "flatten", nil, waitHalt)
	if tail := detail(ev, "log_tail"); !strings.Contains(tail, "risk limits unavailable") || !strings.Contains(tail, pdKeyEnv+"=") {
		t.Errorf("page's log tail %q: want the risk manager's dump, scrubbed", tail)
	}
	if out := detail(ev, "flatten_output"); !strings.Contains(out, "flattened") || strings.Contains(out, pdKeyEnv) {
		t.Errorf("flatten output %q: want the command's own minimal environment", out)
	}
	// What the pages say (the routing key itself is, rightly, in every
	// request's routing_key field).
	var payloads []any
	for _, e := range sc.pd.Events() {
		payloads = append(payloads, e.Payload)
	}
	pages, err := json.Marshal(payloads)
	if err != nil {
		t.Fatal(err)
	}
	store, err := os.ReadFile(sc.statePth)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(sc.statePth + "-wal")
	for where, text := range map[string]string{
		"the pages":       string(pages),
		"haltguard's log": sc.ReadListenerStderr("haltguard"),
		"the state store": string(store) + string(wal),
	} {
		if strings.Contains(text, pdKey) {
			t.Errorf("%s hold the routing key", where)
		}
	}
}
