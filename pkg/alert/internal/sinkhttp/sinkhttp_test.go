package sinkhttp

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/alert"
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

func TestClassify(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	cause := errors.New("boom")
	tests := []struct {
		name       string
		code       int
		retryAfter string
		retry      bool
		after      time.Duration
	}{
		{"no answer", 0, "", true, 0},
		{"bad request", http.StatusBadRequest, "", false, 0},
		{"forbidden", http.StatusForbidden, "", false, 0},
		{"not found", http.StatusNotFound, "", false, 0},
		{"request timeout", http.StatusRequestTimeout, "", true, 0},
		{"rate limited", http.StatusTooManyRequests, "7", true, 7 * time.Second},
		{"server error", http.StatusInternalServerError, "", true, 0},
		{"bad gateway ignores Retry-After", http.StatusBadGateway, "9", true, 0},
		{"unavailable with Retry-After", http.StatusServiceUnavailable, "3", true, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Classify(cause, tc.code, tc.retryAfter, now)
			retry, after := alert.IsRetryable(err)
			if retry != tc.retry || after != tc.after || !errors.Is(err, cause) {
				t.Errorf("Classify(%d) = %v: retry %v after %v, want %v after %v", tc.code, err, retry, after, tc.retry, tc.after)
			}
		})
	}
}
