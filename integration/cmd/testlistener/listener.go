package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/integration/cmd/internal/helperprog"
	"github.com/superguard/superguard/integration/eventrecord"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/logging"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Environment variables of the pause point.
const (
	EnvPause       = "SUPERGUARD_TEST_PAUSE"        // event name to pause on
	EnvPauseMarker = "SUPERGUARD_TEST_PAUSE_MARKER" // marker file; default <record>.paused
)

// Config is what the test listener does.
type Config struct {
	Record      string         // record file (required)
	StateFile   string         // eventlistener.Options.StateFile
	FailFirst   int            // answer FAIL to the first N matching deliveries
	FailMatch   *regexp.Regexp // which event names FailFirst counts (nil = all)
	MaxAttempts int            // eventlistener.Options.MaxAttempts (0 = library default)
	Dialect     eventlistener.Dialect
	Reconcile   bool // record reconciliations (needs SUPERVISOR_SERVER_URL)
	OnStart     bool // also reconcile at start-up
	LogLevel    string
	Grace       time.Duration // eventlistener.Options.HandlerGrace (0 = library default)
	Pause       string        // event name to pause on ("" = never)
	PauseMarker string
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var (
		cfg             Config
		failMatch, dial string
		fs              = helperprog.NewFlagSet("testlistener", stderr)
	)
	fs.StringVar(&cfg.Record, "record", "", "append a JSON line per delivery to this file (required)")
	fs.StringVar(&cfg.StateFile, "state-file", "", "delivery tracking state file (recognises re-sent events across restarts)")
	fs.IntVar(&cfg.FailFirst, "fail-first", 0, "answer FAIL to the first N deliveries of matching events")
	fs.StringVar(&failMatch, "fail-match", "", "regular expression on the event name for -fail-first (default: every event)")
	fs.IntVar(&cfg.MaxAttempts, "max-attempts", 0, "FAIL answers per event before the library acks it (0 = library default)")
	fs.StringVar(&dial, "dialect", "supervisor4", "len counting of the supervisord: supervisor4 or gosupervisord")
	fs.BoolVar(&cfg.Reconcile, "reconcile", false, "record reconciliations (poolserial gaps), listing processes via SUPERVISOR_SERVER_URL")
	fs.BoolVar(&cfg.OnStart, "reconcile-on-start", false, "with -reconcile, also reconcile at start-up")
	fs.DurationVar(&cfg.Grace, "handler-grace", 0, "how long the event in hand may take after SIGTERM (0 = library default)")
	fs.StringVar(&cfg.LogLevel, "log-level", "", "debug, info, warn or error (default $SUPERGUARD_LOG_LEVEL, else info)")
	if err := helperprog.Parse(fs, args); err != nil {
		return Config{}, err
	}
	if cfg.Record == "" {
		return Config{}, errors.New("-record is required")
	}
	if cfg.FailFirst < 0 || cfg.MaxAttempts < 0 {
		return Config{}, errors.New("-fail-first and -max-attempts must not be negative")
	}
	if failMatch != "" {
		re, err := regexp.Compile(failMatch)
		if err != nil {
			return Config{}, fmt.Errorf("-fail-match: %w", err)
		}
		cfg.FailMatch = re
	}
	d, err := eventlistener.ParseDialect(dial)
	if err != nil {
		return Config{}, fmt.Errorf("-dialect: %w", err)
	}
	cfg.Dialect = d
	if cfg.OnStart && !cfg.Reconcile {
		return Config{}, errors.New("-reconcile-on-start needs -reconcile")
	}
	cfg.Pause = getenv(EnvPause)
	cfg.PauseMarker = getenv(EnvPauseMarker)
	if cfg.PauseMarker == "" {
		cfg.PauseMarker = cfg.Record + ".paused"
	}
	return cfg, nil
}

// handler records deliveries and decides the answers.
type handler struct {
	cfg Config
	log zerolog.Logger
	pid int

	mu     sync.Mutex
	failed int // FAIL answers given so far to matching events
}

var (
	_ eventlistener.Handler    = (*handler)(nil)
	_ eventlistener.Reconciler = (*handler)(nil)
)

// errScripted is the handler error that makes the library answer FAIL.
var errScripted = errors.New("scripted FAIL (-fail-first)")

func (h *handler) HandleEvent(ctx context.Context, ev *eventlistener.Event) error {
	rec := eventrecord.Record{
		Kind: eventrecord.KindEvent, PID: h.pid, Time: time.Now().UTC(),
		Ver: ev.Ver, Server: ev.Server, Serial: ev.Serial, Pool: ev.Pool, PoolSerial: ev.PoolSerial,
		EventName: ev.EventName, Len: ev.Len, Payload: ev.Payload, Fields: ev.Fields,
		Redelivered: ev.Redelivered, Attempt: ev.Attempt, Missed: ev.Missed, Answer: eventrecord.AnswerOK,
	}
	if h.shouldPause(ev) {
		rec.Answer = eventrecord.AnswerPaused
		if err := eventrecord.Append(h.cfg.Record, rec); err != nil {
			return err
		}
		if err := os.WriteFile(h.cfg.PauseMarker, []byte(strconv.FormatInt(ev.Serial, 10)+"\n"), 0o600); err != nil {
			return fmt.Errorf("pause marker: %w", err)
		}
		h.log.Info().EmbedObject(ev).Msg("paused inside the handler")
		<-ctx.Done()
		return nil // stopped while paused: the test has what it needed
	}
	fail := h.shouldFail(ev)
	if fail {
		rec.Answer = eventrecord.AnswerFail
	}
	if err := eventrecord.Append(h.cfg.Record, rec); err != nil {
		return err
	}
	h.log.Info().EmbedObject(ev).Str("answer", rec.Answer).Msg("event")
	if fail {
		return errScripted
	}
	return nil
}

func (h *handler) shouldPause(ev *eventlistener.Event) bool {
	if h.cfg.Pause == "" || ev.EventName != h.cfg.Pause {
		return false
	}
	_, err := os.Stat(h.cfg.PauseMarker)
	return errors.Is(err, fs.ErrNotExist)
}

func (h *handler) shouldFail(ev *eventlistener.Event) bool {
	if h.cfg.FailMatch != nil && !h.cfg.FailMatch.MatchString(ev.EventName) {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failed >= h.cfg.FailFirst {
		return false
	}
	h.failed++
	return true
}

func (h *handler) Reconcile(_ context.Context, r eventlistener.Reconciliation) error {
	h.log.Info().Str("reason", r.Reason).Str("pool", r.Pool).Int64("missed", r.Missed).
		Int("processes", len(r.Processes)).Msg("reconcile")
	return eventrecord.Append(h.cfg.Record, eventrecord.Record{
		Kind: eventrecord.KindReconcile, PID: h.pid, Time: time.Now().UTC(),
		Reason: r.Reason, Pool: r.Pool, Missed: r.Missed, Processes: len(r.Processes),
	})
}

// Run runs the listener on stdin and stdout until EOF or ctx ends.
func Run(ctx context.Context, cfg Config, stdin io.Reader, stdout, stderr io.Writer) error {
	log, err := logging.New(stderr, "testlistener", cfg.LogLevel)
	if err != nil {
		return err
	}
	h := &handler{cfg: cfg, log: log, pid: os.Getpid()}
	opts := eventlistener.Options{
		Dialect: cfg.Dialect, Logger: log, MaxAttempts: cfg.MaxAttempts, StateFile: cfg.StateFile,
		ReconcileOnStart: cfg.OnStart, HandlerGrace: cfg.Grace,
	}
	if cfg.Reconcile {
		c, err := supervisor.New(supervisor.ConfigFromEnv())
		if err != nil {
			return fmt.Errorf("supervisor client: %w", err)
		}
		defer c.Close()
		opts.Processes = c
	}
	var hd eventlistener.Handler = h
	if !cfg.Reconcile {
		hd = eventlistener.HandlerFunc(h.HandleEvent) // no Reconciler: nothing to record
	}
	log.Info().Str("record", cfg.Record).Int("fail_first", cfg.FailFirst).Str("pause", cfg.Pause).Msg("started")
	return eventlistener.Run(ctx, stdin, stdout, hd, opts)
}
