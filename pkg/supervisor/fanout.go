package supervisor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// StartPerProcess is added to the deadline of a multicall that starts
// processes: supervisord spawns them one after the other inside it.
const StartPerProcess = 500 * time.Millisecond

// FanoutCaller is the part of the client a Fanout calls; *Client
// implements it.
type FanoutCaller interface {
	Multicall(ctx context.Context, calls []Call) ([]CallResult, error)
	StopProcess(ctx context.Context, name string, wait bool) error
	StartProcess(ctx context.Context, name string, wait bool) error
}

var _ FanoutCaller = (*Client)(nil)

// Fanout stops or starts many processes at once, with wait=false so that
// no process waits on another: one system.multicall (one request for
// supervisord's single-threaded loop to parse, measured the fastest), or
// one request per process, each from its own goroutine. A server without
// system.multicall (the Go supervisord answers with a fault) is remembered
// and gets one request per process from then on. It is safe for concurrent
// use.
type Fanout struct {
	c           FanoutCaller
	callTimeout time.Duration
	log         zerolog.Logger

	noMulticall atomic.Bool
}

// NewFanout returns a Fanout over c; callTimeout bounds every request.
func NewFanout(c FanoutCaller, callTimeout time.Duration, log zerolog.Logger) *Fanout {
	return &Fanout{c: c, callTimeout: callTimeout, log: log}
}

// StopAll sends stopProcess(name, false) for every name and returns each
// name's answer (nil, a *Fault, or the transport error). multicall false
// sends one request per name even where system.multicall works.
func (f *Fanout) StopAll(ctx context.Context, names []string, multicall bool) map[string]error {
	return f.each(ctx, "supervisor.stopProcess", multicall, f.callTimeout, names,
		func(ctx context.Context, name string) error { return f.c.StopProcess(ctx, name, false) })
}

// StartAll sends startProcess(name, false) for every name and returns each
// name's answer. The multicall's deadline grows by StartPerProcess per
// name.
func (f *Fanout) StartAll(ctx context.Context, names []string) map[string]error {
	timeout := f.callTimeout + time.Duration(len(names))*StartPerProcess
	return f.each(ctx, "supervisor.startProcess", true, timeout, names,
		func(ctx context.Context, name string) error { return f.c.StartProcess(ctx, name, false) })
}

// each calls method(name, false) for every name at once. A transport
// failure of the multicall is every name's answer.
func (f *Fanout) each(ctx context.Context, method string, multicall bool, timeout time.Duration, names []string,
	one func(ctx context.Context, name string) error) map[string]error {
	if len(names) == 0 {
		return nil
	}
	out := make(map[string]error, len(names))
	if multicall && !f.noMulticall.Load() {
		calls := make([]Call, len(names))
		for i, n := range names {
			calls[i] = Call{Method: method, Params: []any{n, false}}
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		sent := time.Now()
		results, err := f.c.Multicall(cctx, calls)
		cancel()
		f.log.Debug().Str("method", method).Int("calls", len(calls)).Dur("took", time.Since(sent)).AnErr("error", err).Msg("multicall")
		var fault *Fault
		switch {
		case err == nil:
			for i, n := range names {
				out[n] = results[i].Err
			}
			return out
		case !errors.As(err, &fault):
			for _, n := range names {
				out[n] = err
			}
			return out
		}
		f.noMulticall.Store(true)
		f.log.Warn().Err(err).Msg("system.multicall refused: one request per process from now on")
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, f.callTimeout)
			defer cancel()
			err := one(cctx, n)
			mu.Lock()
			out[n] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
