// Command exporter is superguard's Prometheus exporter. It serves, on
// 127.0.0.1:9851/metrics by default:
//
//   - what the common supervisord exporters serve (supervisord_up,
//     supervisor_process_info, _state, _start_time_seconds,
//     _uptime_seconds), from events and a read of supervisord on every
//     TICK_5 in the background;
//   - counters none of them has, since they poll and miss a process that
//     crashed and came back between two scrapes: restarts, exits by
//     expected/unexpected, FATALs and BACKOFFs, counted from
//     PROCESS_STATE events, kept in the state store across restarts of
//     the exporter, and reconciled from getAllProcessInfo after dropped
//     events;
//   - the guard itself under superguard_: the kill switch latched, halts
//     and their duration, the alert outbox, each listener's heartbeat and
//     dropped events, healthprobe's probes and memguard's memory.
//
// A scrape reads memory only: it never calls supervisord or the store.
// TLS and basic auth come from a web config file in the Prometheus
// ecosystem's format (github.com/prometheus/exporter-toolkit). See the
// README's exporter section and supervisor-conf/prometheus/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/rs/zerolog"

	"github.com/superguard/superguard/internal/runone"
	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

const listenerName = "exporter"

// section is the exporter's part of the shared YAML file.
type section = sections.Exporter

func main() {
	listener.Main(spec)
}

var spec = listener.Spec[section]{
	Parts: listener.Parts{
		Name:  listenerName,
		File:  sections.File,
		Store: durable.Opener{},
		Needs: listener.Needs{Supervisor: listener.SupervisorRequired, ReconcileOnStart: true, Grace: 2 * time.Second,
			// Delivery tracking kept across restarts: events supervisord
			// dropped while the exporter was down show as a gap
			// (reconciled) on the first event after it, and a re-sent
			// event is known.
			EventsState: func(env *listener.Env) string {
				return filepath.Join(filepath.Dir(durable.Of(env).Store.Path()), listenerName+".events.json")
			}},
	},
	Summary: "superguard's Prometheus exporter: process states, exact restart counters from events, the guard's own health",
	Flags:   flags,
	Prepare: prepare,
	// A pattern that selects no process exports nothing of what the
	// operator meant.
	Check: func(s *section, procs []supervisor.ProcessInfo) error {
		return errors.Join(procmatch.UnmatchedErrors("listeners.exporter.processes", s.Processes, procs)...)
	},
	New: newListener,
}

// flags override the section's address and web config.
func flags(fs *flag.FlagSet) func(*section) {
	listen := fs.String("listen", "", "host:port to serve /metrics on (default "+sections.DefaultExporterListen+")")
	webConfig := fs.String("web-config", "", "Prometheus web config file: TLS and basic auth for /metrics")
	return func(s *section) {
		if *listen != "" {
			s.Listen = *listen
		}
		if *webConfig != "" {
			s.WebConfig = *webConfig
		}
	}
}

// prepare fills in the defaults, validates the section and reads the web
// config file as the server will (so -check and a start refuse a bad one).
func prepare(s *section) error {
	if err := sections.Prepare(s); err != nil {
		return err
	}
	if s.WebConfig != "" {
		if err := web.Validate(s.WebConfig); err != nil {
			return fmt.Errorf("listeners.exporter.web_config: %s: %w", s.WebConfig, err)
		}
	}
	return nil
}

// exporter is the event handler and the HTTP server.
type exporter struct {
	log      zerolog.Logger
	sup      *supervisor.Client
	store    *durable.Store
	sel      []string // processes exported (empty: all)
	col      *collector
	latch    halt.Latch
	statusIn string // the directory of the listeners' status files

	bg    context.Context
	wg    sync.WaitGroup
	round runone.Runner
	srv   *http.Server

	// saveMu orders the writes of counters: each reads the process's
	// counters under it, so the last write holds the latest. dirty are
	// the processes whose counters the store did not take, written again
	// by the background refresh.
	saveMu sync.Mutex
	dirty  map[string]bool
}

var (
	_ eventlistener.Handler    = (*exporter)(nil)
	_ eventlistener.Reconciler = (*exporter)(nil)
	_ listener.Stopper         = (*exporter)(nil)
)

// newListener loads the persisted counters, binds the address (an
// address in use is an error at start, before READY) and serves.
func newListener(ctx context.Context, env *listener.Env, sec section) (eventlistener.Handler, error) {
	d := durable.Of(env)
	saved := map[string]state.ProcessCounters{}
	if st, err := d.Store.Get(ctx); err == nil {
		if saved, err = st.Counters(ctx); err != nil {
			env.Log.Error().Err(err).Msg("counters not read from the state store: they start from zero")
			saved = map[string]state.ProcessCounters{}
		}
	}
	latch, _, err := sections.KillSwitch(env.Config, d.Store.Path())
	if err != nil {
		return nil, err
	}
	e := &exporter{
		log: env.Log, sup: env.Supervisor, store: d.Store, sel: sec.Processes, latch: latch,
		statusIn: filepath.Dir(d.Store.Path()), bg: env.Background(),
	}
	e.col = &collector{m: newModel(saved, time.Now), kill: latch != nil, now: time.Now}
	ln, err := net.Listen("tcp", sec.Listen)
	if err != nil {
		return nil, fmt.Errorf("listeners.exporter.listen: %w", err)
	}
	e.srv = newServer(e.col, env)
	webConfig := sec.WebConfig
	slogger := slog.New(zerolog.NewSlogHandler(env.Log.With().Str("component", "web").Logger()))
	e.wg.Go(func() {
		err := web.Serve(ln, e.srv, &web.FlagConfig{WebConfigFile: &webConfig}, slogger)
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			env.Log.Error().Err(err).Msg("metrics server stopped")
		}
	})
	if host, _, _ := net.SplitHostPort(sec.Listen); webConfig == "" && !loopback(host) {
		env.Log.Warn().Str("listen", sec.Listen).
			Msg("metrics served beyond this host without authentication: set listeners.exporter.web_config (basic_auth_users, tls_server_config)")
	}
	// The guard's health before the first scrape; supervisord is read by
	// the start-up reconciliation that follows.
	e.readHealth(ctx)
	env.Log.Info().Str("listen", ln.Addr().String()).Bool("tls_or_auth", webConfig != "").Int("processes", len(saved)).
		Msg("exporter ready")
	return e, nil
}

// loopback reports whether host only accepts connections from this host.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newServer serves /metrics (the exporter's metrics and its own process
// and Go runtime) and a landing page at /.
func newServer(col *collector, env *listener.Env) *http.Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(col, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(col.gatherer(reg), promhttp.HandlerOpts{
		ErrorLog: promLog{env.Log}, ErrorHandling: promhttp.ContinueOnError,
		// The exporter serves loopback by default, and gzip more than
		// doubled a scrape's CPU (500 processes: 7.8 ms instead of 3.5 ms,
		// BenchmarkScrapeHandler) to save ~1 MB a scrape.
		DisableCompression: true,
	}))
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "superguard exporter",
		Description: "supervisord's processes, exact restart counters from events, and superguard's own health",
		Version:     listener.Version(listenerName),
		Links:       []web.LandingLinks{{Address: "/metrics", Text: "Metrics"}},
	})
	if err == nil {
		mux.Handle("/", landing)
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// promLog is promhttp's error log on the listener's logger.
type promLog struct{ log zerolog.Logger }

func (l promLog) Println(v ...any) { l.log.Error().Msg(fmt.Sprint(v...)) }

func (e *exporter) selected(group, name string) bool {
	return len(e.sel) == 0 || procmatch.Any(e.sel, group, name)
}

// HandleEvent counts a PROCESS_STATE event and persists the process's
// counters before the event is acknowledged; a TICK starts the
// background refresh. A store that cannot be written is logged: the
// counters are kept in memory and written again on the next change.
func (e *exporter) HandleEvent(ctx context.Context, ev *eventlistener.Event) error {
	switch {
	case ev.State != nil:
		if !e.selected(ev.State.Group, ev.State.Process) {
			return nil
		}
		if key, changed := e.col.m.event(ev.State); changed {
			e.save(ctx, key)
		}
	case ev.Tick != nil:
		e.round.Go(&e.wg, e.refresh)
	}
	return nil
}

// saveTimeout bounds a counter write before the ack.
const saveTimeout = 2 * time.Second

// save writes key's counters as they are now; a process gone from the
// model has nothing to write.
func (e *exporter) save(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(ctx, saveTimeout)
	defer cancel()
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	c, ok := e.col.m.counters(key)
	if !ok {
		delete(e.dirty, key)
		return
	}
	st, err := e.store.Get(ctx)
	if err == nil {
		err = st.SaveCounters(ctx, key, c)
	}
	if err != nil {
		e.log.Error().Err(err).Str("process", key).Msg("counters not persisted (kept in memory, written again on the next tick)")
		if e.dirty == nil {
			e.dirty = map[string]bool{}
		}
		e.dirty[key] = true
		return
	}
	delete(e.dirty, key)
}

// saveDirty writes again the counters the store did not take.
func (e *exporter) saveDirty(ctx context.Context) {
	e.saveMu.Lock()
	keys := slices.Collect(maps.Keys(e.dirty))
	e.saveMu.Unlock()
	for _, key := range keys {
		e.save(ctx, key)
	}
}

// Reconcile applies supervisord's list at start and after dropped events.
func (e *exporter) Reconcile(ctx context.Context, r eventlistener.Reconciliation) error {
	mode := atStart
	if r.Reason == eventlistener.ReasonGap {
		mode = afterGap
	}
	changed := e.col.m.reconcile(e.filter(r.Processes), mode)
	e.col.up.Store(true)
	for _, key := range changed {
		e.save(ctx, key)
	}
	if r.Reason == eventlistener.ReasonGap {
		e.log.Warn().Int64("missed", r.Missed).Int("changed", len(changed)).Msg("events dropped: counters reconciled from supervisord")
	}
	return nil
}

func (e *exporter) filter(list []supervisor.ProcessInfo) []supervisor.ProcessInfo {
	if len(e.sel) == 0 {
		return list
	}
	out := list[:0:0]
	for _, p := range list {
		if e.selected(p.GroupName(), p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// refresh reads supervisord's processes (start times, exit statuses,
// supervisord_up) and the guard's health, in the background.
func (e *exporter) refresh() {
	ctx, cancel := context.WithTimeout(e.bg, 10*time.Second)
	defer cancel()
	if e.sup != nil {
		list, err := e.sup.GetAllProcessInfo(ctx)
		e.col.up.Store(err == nil)
		if err == nil {
			for _, key := range e.col.m.reconcile(e.filter(list), refreshOnly) {
				e.save(ctx, key)
			}
		} else {
			e.log.Warn().Err(err).Msg("supervisord not read")
		}
	}
	e.saveDirty(ctx)
	e.readHealth(ctx)
}

// readHealth reads the guard's health: the state store, the latch files
// and the listeners' status files, all local.
func (e *exporter) readHealth(ctx context.Context) {
	st, err := e.store.Get(ctx)
	if err != nil {
		st = nil
	}
	e.col.guard.Store(readGuard(ctx, st, e.latch, e.statusIn, time.Now()))
}

// Stop closes the server and waits for the background work.
func (e *exporter) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
	e.wg.Wait()
}
