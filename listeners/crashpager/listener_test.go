package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/eventlistener"
)

// frame renders one event as supervisord writes it to a listener's stdin.
func frame(serial int64, name, payload string) string {
	return testsupport.Envelope("crashpager", serial, serial, name, payload)
}

func TestHandleEventThroughTheProtocolLoop(t *testing.T) {
	f := newFixture(t, Config{StableFor: time.Second, SpreeThreshold: 1}, nil)
	f.c.instance = "inst1"
	exited := "processname:mm groupname:strat from_state:RUNNING expected:0 pid:41"
	in := frame(1, "PROCESS_STATE_RUNNING", "processname:mm groupname:strat from_state:STARTING pid:41") +
		frame(2, "PROCESS_STATE_EXITED", exited) +
		frame(2, "PROCESS_STATE_EXITED", exited) + // re-sent: adds nothing
		frame(3, "PROCESS_STATE_RUNNING", "processname:mm groupname:strat from_state:STARTING pid:42") +
		frame(4, "PROCESS_STATE_EXITED", "processname:mm groupname:strat from_state:RUNNING expected:0 pid:42") +
		frame(5, "PROCESS_STATE_RUNNING", "processname:mm groupname:strat from_state:STARTING pid:43") +
		frame(6, "PROCESS_LOG_STDERR", "processname:mm groupname:strat pid:43 channel:stderr\nhello") +
		frame(7, "TICK_5", "when:1741082400")
	var out bytes.Buffer
	// The clock moves on between events so that the TICK finds mm stable.
	h := eventlistener.HandlerFunc(func(ctx context.Context, ev *eventlistener.Event) error {
		f.clk.advance(time.Second)
		return f.c.HandleEvent(ctx, ev)
	})
	err := eventlistener.Run(context.Background(), strings.NewReader(in), &out, h,
		eventlistener.Options{Instance: "inst1", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := "READY\n" + strings.Repeat("RESULT 2\nOKREADY\n", 8); out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
	got := f.sub.take()
	want := "trigger strat:mm exited warning\ntrigger strat:mm exited warning\n" +
		"trigger strat:mm spree critical\ntrigger strat:mm spree critical\n" +
		"resolve strat:mm exited warning\nresolve strat:mm spree critical\n"
	if s := summary(got); s != want {
		t.Fatalf("alerts:\n%s\nwant:\n%s", s, want)
	}
	if got[0].SourceID != "inst1/crashpager/2" || got[3].SourceID != "inst1/crashpager/4" || got[5].SourceID != "inst1/crashpager/7" {
		t.Errorf("source ids %q, %q", got[0].SourceID, got[3].SourceID)
	}
}
