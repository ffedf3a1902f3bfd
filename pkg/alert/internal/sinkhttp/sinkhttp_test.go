package sinkhttp

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 0, 0, 300_000_000, time.UTC)
	tests := []struct {
		name, v string
		want    time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "7", 7 * time.Second},
		{"zero", "0", 0},
		{"negative", "-3", 0},
		{"garbage", "soon", 0},
		{"date ahead, not rounded down", now.Add(30 * time.Second).Truncate(time.Second).Format(http.TimeFormat), 29700 * time.Millisecond},
		{"date past", now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseRetryAfter(tc.v, now); got != tc.want {
				t.Errorf("ParseRetryAfter(%q) = %v, want %v", tc.v, got, tc.want)
			}
		})
	}
}

func TestNewClientBoundsEveryPhase(t *testing.T) {
	c := NewClient(3 * time.Second)
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", c.Transport)
	}
	if c.Timeout != 3*time.Second || tr.ResponseHeaderTimeout != 3*time.Second || tr.TLSHandshakeTimeout <= 0 {
		t.Errorf("timeouts: client %v, headers %v, TLS %v", c.Timeout, tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout)
	}
}
