package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
)

// BenchmarkScrapeHandler is one scrape of 500 processes (8,000 process
// series) through the /metrics handler, in process: the exporter's own
// cost without the network or supervisord (BenchmarkScrape in
// integration/exporter has both). The request asks for gzip as
// Prometheus does; the exporter answers plain (DisableCompression).
func BenchmarkScrapeHandler(b *testing.B) {
	m := newModel(nil, time.Now)
	for i := range 500 {
		m.event(&eventlistener.ProcessState{Group: "t", Process: fmt.Sprintf("t_%03d", i), ToState: "RUNNING", PID: 1000 + i})
	}
	c := &collector{m: m, now: time.Now}
	srv := newServer(c, &listener.Env{})
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		srv.Handler.ServeHTTP(discard{h: http.Header{}}, req)
	}
}

// discard is a ResponseWriter that keeps nothing (a recorder's buffer
// would be measured too).
type discard struct{ h http.Header }

func (d discard) Header() http.Header       { return d.h }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
