package slack

import (
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/internal/sinkhttp"
)

// transientCodes are ok:false error codes Slack documents as temporary.
var transientCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

// classify wraps err from one Slack call as a DeliveryError whose text
// carries neither the webhook URL nor the token. A nil err stays nil.
func (s *Notifier) classify(op string, err error) error {
	if err == nil {
		return nil
	}
	retry, after := retryable(err)
	redacted := alert.RedactError(fmt.Errorf("slack %s: %w", op, err), s.secrets...)
	if !retry {
		return alert.Permanent(redacted)
	}
	return alert.Retry(redacted, after)
}

// retryable decides whether a later attempt may succeed, and the wait Slack
// asked for.
func retryable(err error) (bool, time.Duration) {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		return true, rl.RetryAfter
	case errors.As(err, &sc):
		return sinkhttp.Retryable(sc.Code), 0
	case errors.As(err, &se):
		return transientCodes[se.Err], 0
	}
	// Timeouts, refused or reset connections, garbled answers, and a 429
	// whose Retry-After slack-go could not parse (a *strconv.NumError): try
	// again.
	return true, 0
}
