package eventlistener

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/supervisor"
)

// Handler handles one event. It must be idempotent: an event is handed over
// again when the handler failed (see Options.MaxAttempts) and when the
// listener died while handling it (Event.Redelivered says so). Nothing slow
// belongs in it: supervisord's buffer for the pool fills while the listener
// is busy, and overflowing it drops events.
type Handler interface {
	HandleEvent(ctx context.Context, ev *Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev *Event) error

// HandleEvent calls f.
func (f HandlerFunc) HandleEvent(ctx context.Context, ev *Event) error { return f(ctx, ev) }

// Reconciler is optionally implemented by a Handler: called on start-up (if
// Options.ReconcileOnStart) and whenever a poolserial gap shows that
// supervisord dropped events, with every process's current state, so the
// handler can stop trusting the event stream alone. Its ctx carries
// Options.ReconcileTimeout as a deadline.
type Reconciler interface {
	Reconcile(ctx context.Context, r Reconciliation) error
}

// Reconciliation is the state handed to Reconciler.Reconcile.
type Reconciliation struct {
	Reason    string // "start" | "gap"
	Pool      string // the pool whose events were dropped ("" on start)
	Missed    int64  // how many events were dropped (0 on start)
	Processes []supervisor.ProcessInfo
}

// Reasons for a Reconciliation.
const (
	ReasonStart = "start"
	ReasonGap   = "gap"
)

// ProcessLister is the part of the supervisor client that reconciliation
// needs (*supervisor.Client implements it).
type ProcessLister interface {
	GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error)
}

// Options configures Run. The zero value works: real supervisord's dialect,
// no logging, no reconciliation, tracking in memory only.
type Options struct {
	Dialect     Dialect
	Logger      zerolog.Logger
	Processes   ProcessLister // source for Reconciliation; nil disables reconciliation
	MaxAttempts int           // a handler error answers FAIL at most this many times per event, then the event is acked and logged as an error; default 3
	StateFile   string        // persists the last received (instance, pool, serial, poolserial) so redelivery and gaps are recognised across listener restarts; "" = memory only
	Instance    string        // supervisord instance identity; default (with a StateFile) DefaultInstance(): the parent (supervisord) PID + its start time + boot id

	ReconcileOnStart bool

	// ReconcileTimeout bounds one reconciliation (getAllProcessInfo and
	// Reconcile together); default 5s.
	ReconcileTimeout time.Duration
	// FailDelay is how long to wait before answering FAIL the first time;
	// it doubles with each attempt up to MaxFailDelay (supervisord re-sends
	// a FAILed event at once). Default 25ms.
	FailDelay time.Duration
	// HandlerGrace is how long the event in hand may still take once ctx is
	// cancelled: the handler's context is cancelled only this long after
	// ctx. Default 5s (supervisord's stopwaitsecs defaults to 10s).
	HandlerGrace time.Duration
}

// Defaults of Options.
const (
	DefaultMaxAttempts      = 3
	DefaultReconcileTimeout = 5 * time.Second
	DefaultFailDelay        = 25 * time.Millisecond
	MaxFailDelay            = 250 * time.Millisecond
	DefaultHandlerGrace     = 5 * time.Second
)

func (o *Options) setDefaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Instance == "" && o.StateFile != "" {
		// Only a state file outlives the listener process, so only then
		// does the supervisord instance it was written under matter.
		o.Instance = DefaultInstance()
	}
	if o.ReconcileTimeout <= 0 {
		o.ReconcileTimeout = DefaultReconcileTimeout
	}
	if o.FailDelay <= 0 {
		o.FailDelay = DefaultFailDelay
	}
	if o.HandlerGrace <= 0 {
		o.HandlerGrace = DefaultHandlerGrace
	}
}

// Protocol tokens. A result is "RESULT <len>\n<body>"; the next READY is
// appended so that both leave in one write.
var (
	tokenReady = []byte("READY\n")
	resultOK   = result("OK")
	resultFail = result("FAIL")
)

func result(body string) []byte {
	return fmt.Appendf(nil, "RESULT %d\n%s", len(body), body)
}

// Run writes READY, reads events from r, calls h and answers
// RESULT 2\nOK or RESULT 4\nFAIL (with the next READY) in one write to w.
// It returns nil on EOF or ctx cancellation (after finishing the event in
// hand), and an error wrapping ErrProtocol when a header cannot be parsed
// (the stream is desynchronised: the caller exits non-zero).
//
// When r has a file descriptor (os.Stdin, any *os.File, a net.Conn) or a
// SetReadDeadline method, Run reads in the calling goroutine and a cancelled
// ctx interrupts the read; otherwise a goroutine reads for it, and is left
// blocked in r's Read when Run returns on cancellation.
func Run(ctx context.Context, r io.Reader, w io.Writer, h Handler, opts Options) error {
	opts.setDefaults()
	l := &loop{h: h, w: w, opts: opts, log: opts.Logger}
	l.rec, _ = h.(Reconciler)

	t, err := newTracker(opts.StateFile, opts.Instance)
	if t == nil {
		return fmt.Errorf("eventlistener: %w", err)
	}
	if err != nil {
		l.log.Warn().Err(err).Msg("state file not usable: starting without delivery history")
	}
	defer func() {
		if err := t.close(); err != nil {
			l.log.Warn().Err(err).Msg("close state file")
		}
	}()
	l.t = t

	// The handler's context outlives ctx by HandlerGrace, so that the event
	// in hand can finish after SIGTERM.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(opts.HandlerGrace, hcancel) })
	defer stopGrace()
	l.hctx = hctx

	next, stopReader := newReader(ctx, r, opts.Dialect)
	defer stopReader()

	if opts.ReconcileOnStart {
		l.reconcile(ReasonStart, nil)
	}
	if _, err := w.Write(tokenReady); err != nil {
		return fmt.Errorf("eventlistener: write READY: %w", err)
	}
	lastYield := time.Now()
	for {
		fr, err := next()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, io.EOF):
				l.log.Info().Msg("stdin closed: exiting")
				return nil
			case errors.Is(err, ErrProtocol):
				l.log.Error().Err(err).Msg("unparsable header: the stream is out of sync")
			}
			return fmt.Errorf("eventlistener: %w", err)
		}
		ok := l.handle(fr)
		res := resultOK
		if !ok {
			res = resultFail
		}
		if err := l.answer(ctx, res); err != nil {
			return err
		}
		lastYield = yieldEvery(lastYield)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// yieldInterval is how often the loop yields to the scheduler; it must stay
// under the runtime's 10 ms forced-preemption threshold.
const yieldInterval = 5 * time.Millisecond

// yieldEvery calls runtime.Gosched when yieldInterval has passed since last
// and returns the time of the last yield. In Go 1.26 (the P state _Psyscall
// is gone) a goroutine blocked in a syscall leaves its P running, so a loop
// that only ever blocks in poll(2) and write(2) looks to sysmon like one
// goroutine that never yields: every 10 ms sysmon preempts it and drops back
// to waking every 20 µs, which cost 13% of eventlog's CPU in lockstep.
// Yielding on every event costs more still (each Gosched wakes another
// thread); every few milliseconds costs nothing measurable.
func yieldEvery(last time.Time) time.Time {
	now := time.Now()
	if now.Sub(last) < yieldInterval {
		return last
	}
	runtime.Gosched()
	return now
}

// loop is the state of one Run.
type loop struct {
	h    Handler
	rec  Reconciler // h as a Reconciler, or nil
	w    io.Writer
	t    *tracker
	opts Options
	log  zerolog.Logger
	hctx context.Context
	out  []byte // result + READY, reused
}

// answer writes res, followed by READY unless ctx is done, in one write.
func (l *loop) answer(ctx context.Context, res []byte) error {
	l.out = append(l.out[:0], res...)
	if ctx.Err() == nil {
		l.out = append(l.out, tokenReady...)
	}
	if _, err := l.w.Write(l.out); err != nil {
		return fmt.Errorf("eventlistener: write result: %w", err)
	}
	return nil
}

// handle tracks, parses and hands over one event; it returns false when the
// answer is FAIL.
func (l *loop) handle(fr frame) bool {
	ev := &Event{Header: fr.h, Payload: fr.payload}
	o := l.t.observe(fr.h)
	ev.Attempt, ev.Redelivered, ev.Missed = o.attempt, o.redelivered, o.missed
	// Saved before the handler runs: a listener killed mid-handler must see
	// the re-sent event as Redelivered after its restart.
	if err := l.t.save(); err != nil {
		withEvent(l.log.Error(), ev).Err(err).Msg("save delivery state")
	}
	perr := parsePayload(ev)

	switch {
	case o.redelivered:
		withEvent(l.log.Warn(), ev).Int("attempt", ev.Attempt).Msg("event re-sent")
	case o.missed > 0:
		withEvent(l.log.Warn(), ev).Int64("missed", o.missed).
			Msg("poolserial gap: supervisord dropped events (buffer overflow)")
	case o.poolReset:
		withEvent(l.log.Info(), ev).Msg("poolserial went back: pool restarted (supervisord reload)")
	}
	if o.missed > 0 {
		l.reconcile(ReasonGap, ev)
	}
	if perr != nil {
		withEvent(l.log.Error(), ev).Err(perr).Str("payload", truncate(ev.Payload)).
			Msg("unparsable payload: acknowledged without handling")
		return true
	}
	if ev.Attempt > l.opts.MaxAttempts+1 {
		// Only repeated listener deaths get here (FAIL stops at MaxAttempts):
		// a poison event that kills the handler must not do so forever.
		withEvent(l.log.Error(), ev).Int("attempt", ev.Attempt).
			Msg("event received too often without an answer: acknowledged without handling")
		return true
	}

	var start time.Time
	debug := l.log.GetLevel() <= zerolog.DebugLevel
	if debug {
		start = time.Now()
	}
	err := l.h.HandleEvent(l.hctx, ev)
	if debug {
		withEvent(l.log.Debug(), ev).Int("attempt", ev.Attempt).Dur("took", time.Since(start)).
			AnErr("error", err).Msg("event handled")
	}
	if err == nil {
		return true
	}
	if ev.Attempt > l.opts.MaxAttempts {
		withEvent(l.log.Error(), ev).Err(err).Int("attempt", ev.Attempt).
			Msg("handler failed too often: event acknowledged and dropped")
		return true
	}
	withEvent(l.log.Warn(), ev).Err(err).Int("attempt", ev.Attempt).
		Msg("handler failed: answering FAIL (supervisord re-sends the event)")
	l.failDelay(ev.Attempt)
	return false
}

// failDelay waits failBackoff(FailDelay, attempt) so that a failing handler
// does not spin supervisord; the end of the handler grace cuts it short.
func (l *loop) failDelay(attempt int) {
	timer := time.NewTimer(failBackoff(l.opts.FailDelay, attempt))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-l.hctx.Done():
	}
}

// failBackoff is base * 2^(attempt-1), capped at MaxFailDelay.
func failBackoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < MaxFailDelay; i++ {
		d *= 2
	}
	return min(d, MaxFailDelay)
}

// reconcile lists every process and calls the handler's Reconcile, bounded
// by ReconcileTimeout. ev is the event that revealed a gap (nil on start).
// A failure is logged and the loop goes on.
func (l *loop) reconcile(reason string, ev *Event) {
	if l.rec == nil {
		return
	}
	r := Reconciliation{Reason: reason}
	logTo := func(z *zerolog.Event) *zerolog.Event {
		if ev != nil {
			z = withEvent(z, ev)
		}
		return z.Str("reason", reason).Int64("missed", r.Missed)
	}
	if ev != nil {
		r.Pool, r.Missed = ev.Pool, ev.Missed
	}
	if l.opts.Processes == nil {
		logTo(l.log.Warn()).Msg("reconciliation needed but no supervisor client is configured")
		return
	}
	ctx, cancel := context.WithTimeout(l.hctx, l.opts.ReconcileTimeout)
	defer cancel()
	var err error
	if r.Processes, err = listProcesses(ctx, l.opts.Processes); err != nil {
		logTo(l.log.Error()).Err(err).Msg("reconciliation failed")
		return
	}
	if err := l.rec.Reconcile(ctx, r); err != nil {
		logTo(l.log.Error()).Err(err).Int("processes", len(r.Processes)).Msg("reconciliation failed")
		return
	}
	logTo(l.log.Info()).Int("processes", len(r.Processes)).Msg("reconciled")
}

// listProcesses calls GetAllProcessInfo in a goroutine so that a client
// which does not honour ctx still cannot hold the loop past the deadline.
func listProcesses(ctx context.Context, pl ProcessLister) ([]supervisor.ProcessInfo, error) {
	type reply struct {
		procs []supervisor.ProcessInfo
		err   error
	}
	ch := make(chan reply, 1)
	go func() {
		procs, err := pl.GetAllProcessInfo(ctx)
		ch <- reply{procs, err}
	}()
	select {
	case r := <-ch:
		return r.procs, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("get all process info: %w", context.Cause(ctx))
	}
}

// truncate bounds raw payload text quoted in a log line.
func truncate(s string) string {
	const max = 1024
	if len(s) <= max {
		return s
	}
	return s[:max] + "...(truncated)"
}
