// Package alerttest provides fake Slack, PagerDuty and Alertmanager services
// for tests. Each fake is a local HTTP server that checks every request
// against the real service's documented contract, records the requests it
// accepted, and can be scripted to fail: answer an HTTP status (500, 429 with
// or without Retry-After, 400), answer Slack's ok:false, hang until the client
// gives up, drop the connection, or refuse connections altogether.
//
// A contract violation fails the test (t.Errorf) and is answered the way the
// real service answers it, unless the test called ExpectViolations first.
//
// The fakes listen on 127.0.0.1 and are safe for concurrent use, so an
// integration test can point a listener binary running in another process at
// URL() and inspect what arrived. Every fake closes itself in t.Cleanup.
package alerttest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// maxBody caps how much of a request body a fake reads; larger bodies are a
// violation for every service modelled here.
const maxBody = 4 << 20

// Fault is a scripted answer a fake gives instead of its normal one. The
// zero value is not useful; build one with Status, RateLimited, SlackError,
// Hang or Drop, or fill the fields directly.
type Fault struct {
	Status     int         // HTTP status to answer; 0 with SlackError means 200
	Header     http.Header // extra response headers (e.g. Retry-After)
	Body       string      // response body; empty means the service's usual body for Status
	SlackError string      // Slack Web API: answer 200 {"ok":false,"error":SlackError}
	Hang       bool        // hold the request until the client gives up or the fake closes
	Drop       bool        // close the connection without answering
}

// Status returns a Fault answering the HTTP status code with the service's
// usual error body.
func Status(code int) Fault { return Fault{Status: code} }

// RateLimited returns a Fault answering 429 Too Many Requests, with a
// Retry-After header in whole seconds when after > 0 and none otherwise.
func RateLimited(after time.Duration) Fault {
	f := Fault{Status: http.StatusTooManyRequests}
	if after > 0 {
		f.Header = http.Header{"Retry-After": {strconv.Itoa(int(after.Round(time.Second) / time.Second))}}
	}
	return f
}

// SlackError returns a Fault answering HTTP 200 {"ok":false,"error":code},
// as the Slack Web API does (e.g. "channel_not_found", "ratelimited").
func SlackError(code string) Fault { return Fault{SlackError: code} }

// Hang returns a Fault that never answers: the request is held until the
// client gives up (its timeout or context) or the fake closes.
func Hang() Fault { return Fault{Hang: true} }

// Drop returns a Fault that closes the connection without answering, which
// the client sees as an unexpected EOF or reset.
func Drop() Fault { return Fault{Drop: true} }

// invalid is a service's verdict on a request that breaks its contract.
type invalid struct {
	code     string   // the service's error code for the answer (Slack "invalid_blocks", ...)
	status   int      // HTTP status of the answer
	problems []string // what is wrong, for the test log
}

// service is what each fake implements on top of Server.
type service interface {
	// check parses and validates a request; bad is nil when it is valid.
	check(r *http.Request, body []byte) (req any, bad *invalid)
	// accept records a valid request and answers it.
	accept(w http.ResponseWriter, r *http.Request, req any)
	// reject answers an invalid request the way the real service does.
	reject(w http.ResponseWriter, r *http.Request, bad *invalid)
	// fail answers a scripted HTTP error status with the service's usual body.
	fail(w http.ResponseWriter, f Fault)
}

// Server is the part every fake shares: the listener, fault scripting,
// contract-violation bookkeeping and request counting. Its methods are
// promoted to each fake.
type Server struct {
	tb   testing.TB
	name string
	svc  service
	srv  *http.Server
	done chan struct{} // closed by Close; releases hanging requests

	mu         sync.Mutex
	addr       string
	ln         net.Listener
	conns      map[net.Conn]struct{}
	queue      []Fault
	sticky     *Fault
	refused    bool
	closed     bool
	expectBad  bool
	violations []string
	requests   int
	changed    chan struct{} // closed and replaced after every request
}

func newServer(tb testing.TB, name string, svc service) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("alerttest: %s: listen: %v", name, err)
	}
	s := &Server{
		tb:      tb,
		name:    name,
		svc:     svc,
		done:    make(chan struct{}),
		addr:    ln.Addr().String(),
		ln:      ln,
		conns:   make(map[net.Conn]struct{}),
		changed: make(chan struct{}),
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         s.trackConn,
	}
	go s.serve(ln)
	tb.Cleanup(s.Close)
	return s
}

func (s *Server) serve(ln net.Listener) {
	// Serve returns when the listener closes (Refuse or Close); nothing to report.
	_ = s.srv.Serve(ln)
}

func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	}
}

// BaseURL returns the fake's scheme://host:port, without a path.
func (s *Server) BaseURL() string { return "http://" + s.addr }

// Script queues faults: each of the next len(faults) requests gets the next
// fault instead of the normal answer. Later requests are answered normally
// (or by FailAll's fault).
func (s *Server) Script(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, faults...)
}

// FailAll answers every request with f (after any Script queue drains)
// until Heal.
func (s *Server) FailAll(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sticky = &f
}

// Refuse closes the listener and every open connection, so new connections
// are refused until Heal.
func (s *Server) Refuse() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused || s.closed {
		return
	}
	s.refused = true
	_ = s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
}

// Heal clears scripted faults and FailAll, and listens again on the same
// address after Refuse.
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = nil
	s.sticky = nil
	if !s.refused || s.closed {
		return
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.tb.Errorf("alerttest: %s: listen again on %s: %v", s.name, s.addr, err)
		return
	}
	s.ln = ln
	s.refused = false
	go s.serve(ln)
}

// ExpectViolations stops contract violations from failing the test: they
// are still answered as the real service would and listed by Violations.
// Tests that send bad requests on purpose call it first.
func (s *Server) ExpectViolations() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expectBad = true
}

// Violations returns every contract violation seen so far, oldest first.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Requests returns how many requests reached the fake, including faulted
// and invalid ones.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// WaitUntil re-evaluates cond after every request until it holds or timeout
// passes, and reports whether it held. Use it to wait for a listener in
// another process instead of sleeping.
func (s *Server) WaitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		}
	}
}

// Close stops the fake, releasing hanging requests. It runs in t.Cleanup;
// calling it earlier (to make the service unreachable) is fine.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	_ = s.srv.Close()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer s.notify()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		// The client went away mid-body; there is nobody to answer.
		s.count()
		return
	}
	var req any
	var bad *invalid
	if len(body) > maxBody {
		bad = &invalid{code: "request_too_large", status: http.StatusRequestEntityTooLarge,
			problems: []string{fmt.Sprintf("body larger than %d bytes", maxBody)}}
	} else {
		req, bad = s.svc.check(r, body)
	}
	fault := s.next()
	if bad != nil {
		s.violate(r, bad)
	}
	switch {
	case fault != nil:
		s.answerFault(w, r, *fault)
	case bad != nil:
		s.svc.reject(w, r, bad)
	default:
		s.svc.accept(w, r, req)
	}
}

// next counts the request and pops the fault that answers it, if any.
func (s *Server) next() *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.notifyLocked()
	if len(s.queue) > 0 {
		f := s.queue[0]
		s.queue = s.queue[1:]
		return &f
	}
	if s.sticky != nil {
		f := *s.sticky
		return &f
	}
	return nil
}

func (s *Server) count() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
}

// notify wakes WaitUntil callers once a request has been answered.
func (s *Server) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyLocked()
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) violate(r *http.Request, bad *invalid) {
	s.mu.Lock()
	expected := s.expectBad
	for _, p := range bad.problems {
		s.violations = append(s.violations, bad.code+": "+p)
	}
	s.mu.Unlock()
	if !expected {
		for _, p := range bad.problems {
			s.tb.Errorf("alerttest: %s: %s %s violates the contract (%s): %s", s.name, r.Method, r.URL.Path, bad.code, p)
		}
	}
}

func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
			// Closing: abort without an answer, as a dying server would.
			panic(http.ErrAbortHandler)
		}
	case f.Drop:
		hj, ok := w.(http.Hijacker)
		if !ok {
			s.tb.Errorf("alerttest: %s: cannot drop the connection: response writer is not a Hijacker", s.name)
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			_ = conn.Close()
		}
	default:
		for k, vs := range f.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if f.Body != "" {
			if w.Header().Get("Content-Type") == "" {
				w.Header().Set("Content-Type", sniffType(f.Body))
			}
			w.WriteHeader(statusOr(f.Status, http.StatusOK))
			_, _ = io.WriteString(w, f.Body)
			return
		}
		s.svc.fail(w, f)
	}
}

func statusOr(code, def int) int {
	if code == 0 {
		return def
	}
	return code
}

func sniffType(body string) string {
	b := bytes.TrimSpace([]byte(body))
	if len(b) > 0 && (b[0] == '{' || b[0] == '[' || b[0] == '"') {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}
