package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kolo/xmlrpc"

	"github.com/superguard/superguard/internal/errtext"
)

// maxResponseBytes bounds the size of one XML-RPC response read into memory.
const maxResponseBytes = 64 << 20

// ErrUnauthorized is matched (errors.Is) by the error of a call that
// supervisord rejected with HTTP 401: wrong or missing username or password.
var ErrUnauthorized = errors.New("unauthorized")

// HTTPError is returned when supervisord answers a call with an HTTP status
// other than 200. A 401 also matches ErrUnauthorized.
type HTTPError struct {
	StatusCode int
	Status     string // e.g. "401 Unauthorized"
}

// Error returns the status, with a hint for 401.
func (e *HTTPError) Error() string {
	if e.StatusCode == http.StatusUnauthorized {
		return "http " + e.Status + ": wrong or missing username or password"
	}
	return "http " + e.Status
}

// Is makes a 401 HTTPError match ErrUnauthorized.
func (e *HTTPError) Is(target error) bool {
	return target == ErrUnauthorized && e.StatusCode == http.StatusUnauthorized
}

// Client calls supervisord's XML-RPC API. It is safe for concurrent use;
// concurrent calls run on separate connections of one shared http.Transport
// and never wait for each other.
type Client struct {
	url      serverURL
	username string
	password string
	timeout  time.Duration

	transport *http.Transport
	http      *http.Client
}

// New validates cfg, reads PasswordFile if set, and returns a Client. It does
// no network I/O: an unreachable server shows up as the error of the first
// call.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := parseServerURL(cfg.URL) // validated above
	password, err := cfg.password()
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	transport := newTransport(u.socketPath)
	return &Client{
		url:       u,
		username:  cfg.Username,
		password:  password,
		timeout:   timeout,
		transport: transport,
		http: &http.Client{
			Transport: transport,
			// supervisord never redirects /RPC2; following one would resend
			// the credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// newTransport returns the transport shared by all calls of one Client. With
// a socket path every connection dials that unix socket, whatever the
// request's host.
func newTransport(socketPath string) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:               nil, // supervisord is local; never route it through $HTTP_PROXY
		DialContext:         dialer.DialContext,
		MaxIdleConns:        16,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
	}
	if socketPath != "" {
		t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socketPath)
		}
	}
	return t
}

// URL returns the server URL, without credentials: "unix:///path" or
// "http://host:port/RPC2".
func (c *Client) URL() string {
	return c.url.display
}

// Close releases idle connections. The Client stays usable.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
}

// call invokes method with args and decodes the result into reply (nil to
// discard it). A ctx without a deadline gets Config.Timeout. Errors name the
// server and the method.
func (c *Client) call(ctx context.Context, method string, reply any, args ...any) error {
	_, hasDeadline := ctx.Deadline()
	if !hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	err := c.do(ctx, method, reply, args)
	if err == nil {
		return nil
	}
	if !hasDeadline && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %v: %w", c.timeout, err)
	}
	return c.wrap(method, err)
}

func (c *Client) do(ctx context.Context, method string, reply any, args []any) error {
	body, err := xmlrpc.EncodeMethodCall(method, args...)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	if c.username != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error names the internal endpoint, not the configured URL
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
		return &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("response larger than %d bytes", maxResponseBytes)
	}
	return decodeResponse(data, reply)
}

// decodeResponse turns an XML-RPC methodResponse into reply or a *Fault.
func decodeResponse(data []byte, reply any) error {
	r := xmlrpc.Response(data)
	if err := r.Err(); err != nil {
		var fe xmlrpc.FaultError
		if errors.As(err, &fe) {
			return newFault(fe.Code, fe.String)
		}
		return fmt.Errorf("decode fault: %w", err)
	}
	if reply == nil {
		return nil
	}
	if err := r.Unmarshal(reply); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// wrap adds the server and method to err, and scrubs the password from the
// message should any layer ever have echoed it.
func (c *Client) wrap(method string, err error) error {
	err = fmt.Errorf("supervisord %s: %s: %w", c.url.display, method, err)
	if c.password != "" && strings.Contains(err.Error(), c.password) {
		return errtext.Replace(err, strings.ReplaceAll(err.Error(), c.password, "xxxxx"))
	}
	return err
}
