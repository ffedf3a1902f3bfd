package eventlog

import (
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestProtocolSmoke runs eventlog on both backends: real supervisord 4.x
// and the Go supervisord, whose len counts bytes, whose state names are
// Title-case and whose state events carry an empty groupname. eventlog
// (with the matching -dialect) must parse PROCESS_STATE, TICK and non-ASCII
// payloads identically on both, and stay in sync.
func TestProtocolSmoke(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		backend harness.Backend
		dialect string
	}{
		{harness.RealSupervisord, "supervisor4"},
		{harness.GoSupervisord, "gosupervisord"},
	} {
		t.Run(tc.backend.String(), func(t *testing.T) {
			t.Parallel()
			s := harness.Start(t, harness.Options{Backend: tc.backend, Sections: harness.Listener{Name: "eventlog",
				Command: `{{bin "` + eventlogPkg + `"}} -dialect ` + tc.dialect,
				Events:  "PROCESS_STATE,PROCESS_LOG,REMOTE_COMMUNICATION,TICK_5"}.Section() + `
[program:talker]
command={{bin "` + fakePkg + `"}} -log-text "` + nonASCII + `" -log-every 400ms
stdout_events_enabled=true
stdout_logfile={{.Dir}}/talker.out
stderr_logfile={{.Dir}}/talker.err
`})
			s.WaitProcessState(t, "talker", supervisor.ProcessRunning, wait)
			if err := s.Client.SendRemoteCommEvent(ctx(t), "superguard.smoke", "données ✓"); err != nil {
				t.Fatal(err)
			}

			_, running := events(t, s, "eventlog", 1, "talker RUNNING", isEvent("PROCESS_STATE_RUNNING", "talker"))
			wantState(t, running[0], "talker", "talker", "STARTING", "RUNNING")
			_, logs := events(t, s, "eventlog", 2, "talker's non-ASCII log lines", isEvent("PROCESS_LOG_STDOUT", "talker"))
			for _, l := range logs {
				wantOutput(t, l.Log, "talker", "stdout", l.Log.Data, nonASCII+"\n")
			}
			_, remote := events(t, s, "eventlog", 1, "REMOTE_COMMUNICATION", isEvent("REMOTE_COMMUNICATION", ""))
			if r := remote[0].Remote; r == nil || r.Type != "superguard.smoke" || r.Data != "données ✓" {
				t.Errorf("remote = %s", remote[0])
			}
			_, ticks := events(t, s, "eventlog", 1, "TICK_5", isEvent("TICK_5", ""))
			if tk := ticks[0].Tick; tk == nil || tk.Period != 5 || tk.When.Unix()%5 != 0 {
				t.Errorf("tick = %s", ticks[0])
			}

			all, _ := events(t, s, "eventlog", 0, "all events", func(line) bool { return false })
			for i := 1; i < len(all); i++ {
				if all[i].PoolSerial != all[i-1].PoolSerial+1 {
					t.Errorf("poolserial %d follows %d: %s", all[i].PoolSerial, all[i-1].PoolSerial, all[i])
				}
			}
			for _, l := range parseLines(t, s.ReadListenerStderr("eventlog"), "eventlog") {
				if l.Level != "info" {
					t.Errorf("eventlog logged at %s: %s", l.Level, l)
				}
			}
		})
	}
}
