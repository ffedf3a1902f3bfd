package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/internal/sinkhttp"
)

// attempt records what the HTTP layer saw during one ManageEventWithContext
// call. go-pagerduty flattens transport errors into text ("error calling
// the API endpoint: %v") and keeps no response headers, so the status,
// Retry-After and the transport error are captured underneath it.
type attempt struct {
	err        error  // transport error, nil when a response arrived
	status     int    // HTTP status, 0 without a response
	retryAfter string // Retry-After header of the response
	body       []byte // start of an error answer's body
}

// maxErrorBody caps how much of an error answer is kept for the error text.
const maxErrorBody = 1 << 10

type attemptKey struct{}

func withAttempt(ctx context.Context, a *attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

// recordingClient is the pagerduty.HTTPClient that fills the attempt
// carried by the request's context.
type recordingClient struct{ c *http.Client }

// Do implements pagerduty.HTTPClient.
func (r recordingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.c.Do(req)
	if a, ok := req.Context().Value(attemptKey{}).(*attempt); ok {
		a.err = err
		if resp != nil {
			a.status = resp.StatusCode
			a.retryAfter = resp.Header.Get("Retry-After")
			if resp.StatusCode != http.StatusAccepted {
				// Keep the start of the body for the error text; go-pagerduty
				// reads the Events API's error object as a REST one and loses it.
				a.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
				resp.Body = struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(a.body), resp.Body), resp.Body}
			}
		}
	}
	return resp, err
}

// classify turns the outcome of one event into nil or a DeliveryError whose
// text carries no routing key.
func (p *Notifier) classify(action string, a *attempt, err error) error {
	switch {
	case a.status == http.StatusAccepted:
		// PagerDuty took the event; an unreadable acknowledgement changes nothing.
		return nil
	case a.status >= 200 && a.status < 300:
		// Another 2xx is not PagerDuty's answer (a proxy?): the event may not
		// have arrived, and resending with the same dedup key is harmless.
		err = fmt.Errorf("unexpected status %d: want 202", a.status)
	case err == nil:
		return nil
	case a.status != 0:
		// Say what PagerDuty said rather than go-pagerduty's generic text.
		err = fmt.Errorf("status %d: %s", a.status, describeBody(a.body))
	}
	wrapped := alert.RedactError(fmt.Errorf("pagerduty %s: %w", action, err), p.key)
	switch code := a.status; {
	case code >= 200 && code < 300:
		return alert.Retry(wrapped, 0)
	case code == http.StatusTooManyRequests:
		return alert.Retry(wrapped, max(MinRateLimitWait, sinkhttp.ParseRetryAfter(a.retryAfter, time.Now())))
	}
	// No answer (nothing was ingested), 408, 5xx: retry; other 4xx: permanent.
	return sinkhttp.Classify(wrapped, a.status, a.retryAfter, time.Now())
}

// describeBody renders an error answer on one line: the Events API's
// status, message and errors when it is one of its error objects, else the
// text itself.
func describeBody(b []byte) string {
	var eo pagerduty.EventsAPIV2ErrorObject
	if json.Unmarshal(b, &eo) == nil && (eo.Status != "" || eo.Message != "") {
		parts := []string{eo.Status, eo.Message}
		parts = append(parts, eo.Errors...)
		return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), ": ")
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	if s == "" {
		return "(empty body)"
	}
	if len(s) > 256 {
		s = strings.ToValidUTF8(s[:256], "") + "…"
	}
	return s
}
