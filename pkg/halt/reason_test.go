package halt

import (
	"testing"

	"github.com/superguard/superguard/pkg/supervisor"
)

func TestTriggerReasonRoundTrip(t *testing.T) {
	tests := []struct {
		reason  string
		process string
		want    string
	}{
		{TriggerReason("risk:rm", supervisor.ProcessFatal, "event"), "risk:rm", "FATAL"},
		{TriggerReason("risk:rm", supervisor.ProcessExited, "unexpected exit, event"), "risk:rm", "EXITED"},
		{TriggerReason("risk:rm", supervisor.ProcessBackoff, "found by the tick check"), "risk:rm", "BACKOFF"},
		{"risk:rm FATAL (event)", "other:x", ""},
		{"limits breached", "", ""},
		{"risk:rm Fatal (event)", "risk:rm", ""},
		{"risk:rm went away", "risk:rm", ""},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			if got := ParseTriggerState(tt.reason, tt.process); got != tt.want {
				t.Errorf("ParseTriggerState(%q, %q) = %q, want %q", tt.reason, tt.process, got, tt.want)
			}
		})
	}
}
