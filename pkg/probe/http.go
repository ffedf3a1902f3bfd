package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// MaxBody is how much of a body an HTTP probe reads.
const MaxBody = 64 << 10

// HTTP probes a URL: the status must be one of Statuses (default any
// 2xx), the body must contain BodyContains and match BodyRegex, and, when
// Asserts or Stale are set, be a JSON object for which they hold.
type HTTP struct {
	URL          string // may hold %(...)s placeholders (Expand)
	Method       string // default GET
	Headers      map[string]string
	Statuses     []int
	BodyContains string
	BodyRegex    *regexp.Regexp
	Asserts      []*Assertion
	Stale        *Stale
	// Client sends the requests (default: a client without keep-alive
	// reuse limits and without redirects followed).
	Client *http.Client
	// Now is the clock of staleness (default time.Now).
	Now func() time.Time
}

// Kind implements Prober.
func (h *HTTP) Kind() string { return "http" }

// NewClient returns the HTTP client probes share: no redirects followed
// (a health endpoint that redirects is misconfigured), and a connection
// per probe, as Kubernetes' kubelet probes: a probe sees what a new
// client would (a full accept queue, a dead listener), no idle
// connection is held in every strategy between rounds, and a thousand
// targets in flight cost no transport goroutines (see oneShot). No proxy:
// probes go to the address as written.
func NewClient() *http.Client {
	return &http.Client{
		Transport:     &oneShot{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Probe implements Prober.
func (h *HTTP) Probe(ctx context.Context, p Process) Result {
	r := Result{At: time.Now()}
	url := Expand(h.URL, p)
	method := h.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		r.Evidence = "bad request: " + err.Error()
		return finish(r)
	}
	for k, v := range h.Headers {
		req.Header.Set(k, Expand(v, p))
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		r.Evidence = httpErrorText(ctx, r.At, err)
		return finish(r)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	r.Status = resp.StatusCode
	r.Body = clip(string(body), 512)
	if err != nil {
		r.Evidence = fmt.Sprintf("HTTP %d, then the body broke off: %s", resp.StatusCode, httpErrorText(ctx, r.At, err))
		return finish(r)
	}
	r = finish(r)
	if !h.statusOK(resp.StatusCode) {
		r.Evidence = fmt.Sprintf("HTTP %d (want %s)", resp.StatusCode, h.statusWant())
		return r
	}
	if h.BodyContains != "" && !strings.Contains(string(body), h.BodyContains) {
		r.Evidence = fmt.Sprintf("HTTP %d, but the body lacks %q", resp.StatusCode, h.BodyContains)
		return r
	}
	if h.BodyRegex != nil && !h.BodyRegex.Match(body) {
		r.Evidence = fmt.Sprintf("HTTP %d, but the body does not match /%s/", resp.StatusCode, h.BodyRegex)
		return r
	}
	if len(h.Asserts) == 0 && h.Stale == nil {
		r.OK, r.Evidence = true, fmt.Sprintf("HTTP %d in %s", resp.StatusCode, r.Latency.Round(time.Millisecond))
		return r
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		r.Evidence = fmt.Sprintf("HTTP %d, but the body is not a JSON object (%v): %q", resp.StatusCode, err, clip(string(body), 60))
		return r
	}
	for _, a := range h.Asserts {
		if ok, ev := a.Check(doc); !ok {
			r.Evidence = ev
			return r
		}
	}
	r.OK, r.Evidence = true, fmt.Sprintf("HTTP %d in %s", resp.StatusCode, r.Latency.Round(time.Millisecond))
	if h.Stale != nil {
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		var ev string
		r.OK, r.Age, r.Skew, ev = h.Stale.Check(doc, now())
		if !r.OK {
			r.Evidence = ev
		} else {
			r.Evidence += "; " + ev
		}
	}
	return r
}

func (h *HTTP) statusOK(code int) bool {
	if len(h.Statuses) == 0 {
		return code >= 200 && code < 300
	}
	return slices.Contains(h.Statuses, code)
}

func (h *HTTP) statusWant() string {
	if len(h.Statuses) == 0 {
		return "2xx"
	}
	var s []string
	for _, c := range h.Statuses {
		s = append(s, fmt.Sprint(c))
	}
	return strings.Join(s, " or ")
}

// httpErrorText says in plain words why a request failed: a time-out,
// connection refused, a name that does not resolve, a TLS failure.
func httpErrorText(ctx context.Context, start time.Time, err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || isTimeout(err):
		return timeoutText(ctx, start)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing listens there"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the process"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the name %q does not resolve: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return "TLS certificate not accepted: " + err.Error()
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		return "TLS handshake failed: the server does not speak TLS"
	case strings.Contains(err.Error(), "tls:"):
		return "TLS handshake failed: " + err.Error()
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed without a complete answer"
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
