package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/state"
)

// Defaults for Options' tuning fields.
const (
	DefaultSubmitTimeout = 2 * time.Second
	// DefaultPollInterval: a Submit in this process wakes its senders at
	// once; the poll only finds rows another process wrote (an operator's
	// retry, a dead listener's leased rows). Every poll prepares and runs
	// SQLite queries: at 500 ms they were half of an idle listener's CPU
	// (perf on memguard: 35 -> 17 ms per 5 s at 2 s).
	DefaultPollInterval  = 2 * time.Second
	DefaultSweepInterval = time.Second
	DefaultLeaseTTL      = 10 * time.Second
	DefaultBackoffBase   = time.Second
	DefaultBackoffMax    = 5 * time.Minute
)

// Environment variables of the kill-test pause point (see the package doc).
const (
	EnvTestPause     = "SUPERGUARD_TEST_PAUSE"
	EnvTestPauseFile = "SUPERGUARD_TEST_PAUSE_FILE"
	PauseAfterCommit = "after-outbox-commit"
)

// ErrNoStore is returned by Submit when the pipeline has no state store.
var ErrNoStore = errors.New("no state store")

// Options configures a Pipeline.
type Options struct {
	// Store is the shared state store. It may be nil when the store cannot
	// be opened: every Submit then logs the alert and returns ErrNoStore,
	// and Run only waits for its context.
	Store *state.Store
	// Config supplies routing, sinks, dedup, quiet hours and maintenance.
	Config *config.Config
	// Notifiers has one entry per configured sink, keyed by sink name
	// (notify.Build makes them).
	Notifiers map[string]alert.Notifier
	Logger    zerolog.Logger
	Clock     Clock // nil: the system clock
	// Listener names the listener using the pipeline. It is recorded on
	// alerts that carry none.
	Listener string

	// Tuning; zero means the default.
	SubmitTimeout time.Duration // bound on one Submit
	PollInterval  time.Duration // how often senders look for rows written by other processes
	SweepInterval time.Duration // how often repeats, reminders and refreshes are queued
	LeaseTTL      time.Duration // how long a sender's claim on a sink outlives a silent holder
	BackoffBase   time.Duration // first retry delay
	BackoffMax    time.Duration // longest retry delay (a RetryAfter may ask for more)
}

// Pipeline records alerts and delivers them. Submit is safe for concurrent
// use; Run is called once.
type Pipeline struct {
	store    *state.Store
	cfg      *config.Config
	log      zerolog.Logger
	clock    Clock
	listener string
	opts     Options
	senders  []*sender
	owner    string // this pipeline's lease token
	pid      int
	pause    string // marker file of the kill-test pause point ("" when off)
	running  atomic.Bool
}

// New checks opts and returns a Pipeline. It does no I/O.
func New(opts Options) (*Pipeline, error) {
	if opts.Config == nil {
		return nil, errors.New("pipeline: no config")
	}
	if opts.Listener == "" {
		return nil, errors.New("pipeline: no listener name")
	}
	for name := range opts.Notifiers {
		if _, ok := opts.Config.Sink(name); !ok {
			return nil, fmt.Errorf("pipeline: notifier %q: no sink of that name in the config", name)
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.SubmitTimeout, DefaultSubmitTimeout)
	def(&opts.PollInterval, DefaultPollInterval)
	def(&opts.SweepInterval, DefaultSweepInterval)
	def(&opts.LeaseTTL, DefaultLeaseTTL)
	def(&opts.BackoffBase, DefaultBackoffBase)
	def(&opts.BackoffMax, DefaultBackoffMax)
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	p := &Pipeline{
		store:    opts.Store,
		cfg:      opts.Config,
		log:      opts.Logger.With().Str("component", "alert-pipeline").Logger(),
		clock:    opts.Clock,
		listener: opts.Listener,
		opts:     opts,
		owner:    opts.Listener + "-" + alert.RandomHex(6),
		pid:      os.Getpid(),
	}
	if os.Getenv(EnvTestPause) == PauseAfterCommit {
		p.pause = os.Getenv(EnvTestPauseFile)
	}
	for i := range opts.Config.Sinks {
		sk := &opts.Config.Sinks[i]
		n, ok := opts.Notifiers[sk.Name]
		if !ok {
			// Its secret is missing, say: what is routed to it is still
			// committed, and waits in the outbox for a process that can
			// send it (a listener restarted with the secret, or retry).
			if opts.Store != nil {
				p.log.Error().Str("sink", sk.Name).Msg("sink not built: its notifications wait in the outbox")
			}
			continue
		}
		p.senders = append(p.senders, newSender(p, sk, n))
	}
	return p, nil
}

// Submit records a (see the package doc) and returns once the incident
// ledger and the outbox rows it calls for are committed. It does no network
// I/O. On failure it logs the alert and returns an error; the caller acks
// anyway.
func (p *Pipeline) Submit(ctx context.Context, in *alert.Alert) error {
	if in == nil {
		return errors.New("pipeline: nil alert")
	}
	a := p.normalize(in)
	if err := a.Validate(); err != nil {
		p.logUnrecorded(&a, err)
		return fmt.Errorf("pipeline: %w", err)
	}
	if p.store == nil {
		p.logUnrecorded(&a, ErrNoStore)
		return fmt.Errorf("pipeline: submit %s: %w", a.Key, ErrNoStore)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.SubmitTimeout)
	defer cancel()
	now := p.clock.Now()
	var queued, dup bool
	err := p.store.Update(ctx, func(tx *state.Tx) error {
		queued, dup = false, false
		if a.SourceID != "" {
			fresh, err := tx.MarkProcessed(a.SourceID, a.Key, now)
			if err != nil {
				return err
			}
			if !fresh {
				dup = true
				return nil
			}
		}
		var err error
		if a.Kind == alert.Trigger {
			queued, err = p.trigger(tx, &a, now)
		} else {
			queued, err = p.resolve(tx, &a, now)
		}
		return err
	})
	if err != nil {
		err = fmt.Errorf("pipeline: submit %s: %w", a.Key, err)
		p.logUnrecorded(&a, err)
		return err
	}
	if dup {
		p.log.Debug().Str("key", a.Key).Str("source_id", a.SourceID).Msg("alert already submitted")
	}
	p.pauseAfterCommit(a.Key)
	if queued {
		p.wake()
	}
	return nil
}

// normalize returns a copy of in with the pipeline's defaults filled in and
// every configured secret scrubbed from what it captured from outside (a
// process's log tail, a command's output, error texts in details), before
// it is stored, logged or sent.
func (p *Pipeline) normalize(in *alert.Alert) alert.Alert {
	a := *in
	if a.Details != nil {
		a.Details = cloneMap(a.Details)
		for k, v := range a.Details {
			a.Details[k] = p.redact(v)
		}
	}
	a.Summary, a.Action, a.LogTail = p.redact(a.Summary), p.redact(a.Action), p.redact(a.LogTail)
	if a.Host == "" {
		a.Host = p.cfg.Host
	}
	if a.Listener == "" {
		a.Listener = p.listener
	}
	if a.Time.IsZero() {
		a.Time = p.clock.Now()
	}
	if a.Key == "" && a.Condition != "" {
		a.Key = alert.Key(a.Host, a.Process(), a.Condition)
	}
	return a
}

// logUnrecorded writes an alert the store could not take to the log, whole
// and with secrets redacted, so it is not lost.
func (p *Pipeline) logUnrecorded(a *alert.Alert, err error) {
	b, jerr := json.Marshal(a)
	if jerr != nil {
		b = []byte(`{}`)
	}
	p.log.Error().Str("error", p.redact(err.Error())).RawJSON("alert", []byte(p.redact(string(b)))).
		Msg("alert not recorded")
}

// redact removes every configured secret from s.
func (p *Pipeline) redact(s string) string { return p.cfg.Redact(s) }

// wake tells every sender of this process to look at its queue now.
func (p *Pipeline) wake() {
	for _, s := range p.senders {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// pauseAfterCommit is the kill-test pause point.
func (p *Pipeline) pauseAfterCommit(key string) {
	if p.pause == "" {
		return
	}
	if err := os.WriteFile(p.pause, []byte(key+"\n"), 0o600); err != nil {
		p.log.Error().Err(err).Msg("test pause: write marker")
	}
	p.log.Warn().Str("key", key).Msg("test pause after outbox commit: blocking forever")
	for {
		time.Sleep(time.Hour)
	}
}

// Run starts one sender per sink and the sweeper, and returns nil when ctx
// is done (after releasing its sink leases).
func (p *Pipeline) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("pipeline: Run called twice")
	}
	if p.store == nil {
		p.log.Error().Msg("no state store: alerts are logged, nothing is delivered")
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	for _, s := range p.senders {
		wg.Go(func() { s.run(ctx) })
	}
	wg.Go(func() { p.sweepLoop(ctx) })
	wg.Wait()
	return nil
}

// newIncidentID returns a unique, sortable, readable incident id.
func newIncidentID(now time.Time) string {
	return "inc-" + now.UTC().Format("20060102T150405Z") + "-" + alert.RandomHex(5)
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
