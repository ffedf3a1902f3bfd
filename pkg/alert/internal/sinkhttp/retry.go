package sinkhttp

import (
	"net/http"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

// retryableStatus is the one table of HTTP answers a later attempt may get
// past (besides every 5xx, see Retryable), shared by every sink, the shape
// of Alertmanager's notify.Retrier.
var retryableStatus = map[int]bool{
	0:                             true, // no answer: timeout, refused or reset connection
	http.StatusRequestTimeout:     true,
	http.StatusTooManyRequests:    true,
	http.StatusServiceUnavailable: true,
}

// Retryable reports whether a request answered with HTTP status code (0:
// no answer) may succeed on a later attempt: no answer, 408, 429 and
// every 5xx. Other statuses (4xx) mean the request itself is wrong.
func Retryable(code int) bool { return retryableStatus[code] || code >= 500 }

// Classify wraps err, the failure of a request answered with HTTP status
// code (0: no answer), as a DeliveryError: retryable when Retryable says
// so, waiting at least what the Retry-After header (retryAfter) of a 429
// or 503 asked for; else permanent. err must already be free of secrets.
func Classify(err error, code int, retryAfter string, now time.Time) error {
	if !Retryable(code) {
		return alert.Permanent(err)
	}
	var after time.Duration
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		after = ParseRetryAfter(retryAfter, now)
	}
	return alert.Retry(err, after)
}
