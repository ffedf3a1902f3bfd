package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
)

// oneShot is the probes' HTTP transport: one connection per request,
// written and read on the caller's goroutine with net/http's own request
// writer and response reader, closed with the body. http.Transport keeps
// two goroutines and 8 KiB of buffers per connection even without
// keep-alive; a thousand probes in flight cost that a thousand times.
type oneShot struct {
	dialer net.Dialer
	tls    *tls.Config // nil: the system roots
}

// RoundTrip implements http.RoundTripper.
func (o *oneShot) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	addr := req.URL.Host
	if req.URL.Port() == "" {
		port := "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(req.URL.Hostname(), port)
	}
	conn, err := o.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// The deadline, and an early close when ctx ends, bound every read
	// and write below.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if req.URL.Scheme == "https" {
		cfg := o.tls.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.ServerName = req.URL.Hostname()
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(err)
		}
		conn = tc
	}
	req.Close = true
	if err := req.Write(conn); err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 2<<10), req)
	if err != nil {
		return fail(err)
	}
	resp.Body = &closeConn{ReadCloser: resp.Body, conn: conn, stop: stop}
	return resp, nil
}

// closeConn closes the connection with the body.
type closeConn struct {
	io.ReadCloser
	conn net.Conn
	stop func() bool
}

func (c *closeConn) Close() error {
	c.stop()
	err := c.ReadCloser.Close()
	_ = c.conn.Close()
	return err
}
