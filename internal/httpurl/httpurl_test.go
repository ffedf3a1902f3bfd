package httpurl

import "testing"

func TestValid(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://events.pagerduty.com/v2/enqueue": true,
		"http://127.0.0.1:9093":                   true,
		"http://user:pw@host/x":                   true, // credentials are the caller's concern
		"ftp://host/x":                            false,
		"/relative/path":                          false,
		"https://":                                false,
		"http://[::1":                             false,
		"":                                        false,
	} {
		if got := Valid(raw); got != want {
			t.Errorf("Valid(%q) = %v, want %v", raw, got, want)
		}
	}
}
