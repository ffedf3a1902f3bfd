package eventlog

import (
	"context"
	"strings"
	"testing"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestShippedTradingExample runs conf.d/trading.conf.example, as an
// operator would copy it, with the shipped confs and superguard.yaml (the
// /opt/trading commands replaced by the fake strategy, user= dropped: the
// test host has no trading user): the risk manager, the feed and the four
// strategies behind the gate come up; the risk manager's death halts the
// group; a start while halted is refused by the gate with the example's
// latch paths (those haltguard writes); and resume --start brings the
// strategies back.
func TestShippedTradingExample(t *testing.T) {
	t.Parallel()
	prefix := harness.PortPrefix(t, 4)
	fake := `{{bin "` + fakePkg + `"}}`
	example := harness.TradingExample(t, harness.ShippedConf(t, "conf.d/trading.conf.example"), fake, prefix)
	files := map[string]string{
		"superguard.yaml":     strings.ReplaceAll(harness.ShippedConf(t, "superguard.yaml"), "127.0.0.1:80%(process_num)02d", "127.0.0.1:"+prefix+"%(process_num)02d"),
		"lib/.keep":           "",
		"conf.d/trading.conf": example,
	}
	for _, f := range shippedListenerConfs(t) {
		files[f] = harness.ShippedConf(t, f)
	}
	for rel, v := range sampleSecrets {
		files[rel] = v + "\n"
	}
	s := harness.Start(t, harness.Options{ConfTemplate: harness.ShippedConf(t, "supervisord.conf"), Files: files})
	strategies := []string{"trading:strategy_00", "trading:strategy_01", "trading:strategy_02", "trading:strategy_03"}
	for _, name := range append([]string{"risk_manager", "md_feed", "haltguard", "healthprobe", "crashpager"}, strategies...) {
		s.WaitProcessState(t, name, supervisor.ProcessRunning, wait)
	}
	haltguard := harness.Bin(t, haltguardPkg)
	if code, out, errOut := runBin(t, haltguard, nil, "-check", "-config", s.Path("superguard.yaml")); code != 0 {
		t.Fatalf("haltguard -check against the example: exit %d\n%s%s", code, out, errOut)
	}

	ctx := context.Background()
	if err := s.Client.SignalProcess(ctx, "risk_manager", "KILL"); err != nil {
		t.Fatal(err)
	}
	for _, name := range strategies {
		s.WaitProcessState(t, name, supervisor.ProcessStopped, wait)
	}
	if code, out, _ := runBin(t, haltguard, nil, "status", "-config", s.Path("superguard.yaml")); code != 3 {
		t.Errorf("haltguard status after the risk manager's death: exit %d, want 3 (halted)\n%s", code, out)
	}
	// The gate refuses with the latch files the example names.
	if err := s.Client.StartProcess(ctx, strategies[0], true); err == nil {
		t.Fatal("a strategy started while trading is halted")
	}
	testsupport.Eventually(t, wait, "the gate's refusal in the strategy's log", func() (bool, string) {
		tail, err := s.Client.TailProcessStderrLog(ctx, strategies[0], 0, 4096)
		return err == nil && strings.Contains(tail.Data, "haltguard gate: trading is HALTED"), tail.Data
	})

	s.WaitProcessState(t, "risk_manager", supervisor.ProcessRunning, wait)
	testsupport.Eventually(t, wait, "the strategy to settle after its refused start", func() (bool, string) {
		p, err := s.Client.GetProcessInfo(ctx, strategies[0])
		return err == nil && p.State != supervisor.ProcessStarting && p.State != supervisor.ProcessBackoff, p.StateName
	})
	if code, out, errOut := runBin(t, haltguard, nil, "resume", "--start", "--by", "test", "-config", s.Path("superguard.yaml")); code != 0 {
		t.Fatalf("haltguard resume --start: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range strategies {
		s.WaitProcessState(t, name, supervisor.ProcessRunning, wait)
	}
}
