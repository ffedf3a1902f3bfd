package alertmanager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/internal/sinkhttp"
)

// maxErrorBody caps how much of an error answer goes into the error text.
const maxErrorBody = 256

// post sends body to one replica's endpoint and returns nil or a
// DeliveryError naming the replica.
func (a *Notifier) post(ctx context.Context, endpoint string, body []byte) error {
	name := strings.TrimSuffix(endpoint, "/api/v2/alerts")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return alert.Permanent(a.redact(fmt.Errorf("alertmanager %s: build request: %w", name, err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "superguard")
	if a.user != "" {
		req.SetBasicAuth(a.user, a.pass)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		// Timeout, refused or reset connection.
		return sinkhttp.Classify(a.redact(fmt.Errorf("alertmanager %s: %w", name, err)), 0, "", a.now())
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = a.redact(fmt.Errorf("alertmanager %s: status %d: %s", name, resp.StatusCode, clean(msg)))
	return sinkhttp.Classify(err, resp.StatusCode, resp.Header.Get("Retry-After"), a.now())
}

// combine folds the per-replica results into one error: nil when every
// replica accepted, permanent when any rejected the alert for good, else
// retryable after the longest wait any replica asked for.
func (a *Notifier) combine(errs []error) error {
	var failed []error
	permanent := false
	var after time.Duration
	for _, err := range errs {
		if err == nil {
			continue
		}
		failed = append(failed, err)
		retry, wait := alert.IsRetryable(err)
		permanent = permanent || !retry
		after = max(after, wait)
	}
	if len(failed) == 0 {
		return nil
	}
	// Each cause is already a DeliveryError; report the causes themselves.
	causes := make([]any, len(failed))
	for i, err := range failed {
		causes[i] = err
		var de *alert.DeliveryError
		if errors.As(err, &de) {
			causes[i] = de.Err
		}
	}
	format := fmt.Sprintf("%d of %d alertmanagers failed: ", len(failed), len(errs)) +
		strings.TrimSuffix(strings.Repeat("%w; ", len(failed)), "; ")
	err := fmt.Errorf(format, causes...)
	if permanent {
		return alert.Permanent(err)
	}
	return alert.Retry(err, after)
}

func (a *Notifier) redact(err error) error { return alert.RedactError(err, a.pass) }

// clean makes an error body printable on one line.
func clean(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "(empty body)"
	}
	if len(b) == maxErrorBody {
		s += "…"
	}
	return s
}
