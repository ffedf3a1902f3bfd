// Package sinkhttp holds the HTTP plumbing the alert sinks share: the
// default client with every phase of a request bounded, the one
// classification of HTTP statuses as retryable or not, and the reading of
// a Retry-After header.
package sinkhttp

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// NewClient returns the client a sink uses when its config gives none: the
// whole request is bounded by timeout, and dialling, the TLS handshake and
// the wait for response headers are bounded on their own, so a hung
// endpoint never holds a sender past its attempt deadline.
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   2,
		},
	}
}

// ParseRetryAfter reads a Retry-After header given in seconds or as an HTTP
// date, relative to now; 0 when it is absent, unreadable or already past.
// The result is never rounded down, so a retry never comes sooner than the
// service asked.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
