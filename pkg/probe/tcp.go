package probe

import (
	"context"
	"fmt"
	"net"
	"time"
)

// TCP probes that a TCP connection to Address opens.
type TCP struct {
	Address string // host:port, may hold placeholders
}

// Kind implements Prober.
func (t *TCP) Kind() string { return "tcp" }

// Probe implements Prober.
func (t *TCP) Probe(ctx context.Context, p Process) Result {
	r := Result{At: time.Now()}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", Expand(t.Address, p))
	if err != nil {
		r.Evidence = httpErrorText(ctx, r.At, err)
		return finish(r)
	}
	_ = conn.Close()
	r = finish(r)
	r.OK, r.Evidence = true, fmt.Sprintf("connected in %s", r.Latency.Round(time.Millisecond))
	return r
}
