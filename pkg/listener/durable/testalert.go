package durable

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/notify"
	"github.com/superguard/superguard/pkg/alert/route"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/listener"
)

// testAlertCommand is `test-alert [--sink NAME] [--severity S]`: it sends a
// clearly marked test alert straight to each sink the routes reach (or to
// the one named), waits for each sink's answer, resolves it, and prints
// per sink delivered or the exact error (secrets removed). It answers
// "does paging work?" before 3 AM does.
//
// Nothing is recorded in the state store, by design: the alert goes
// neither through the outbox nor the incident ledger. It tests the sinks
// (their secrets, URLs, the network, the service's answer), so it sends
// from this process and waits for each answer, where an outbox row would
// also be picked up by the running listeners' senders (a second delivery
// nobody waits for) and would wait behind real alerts, rate limits and
// backoffs. A test must not sit in `incidents` as an incident either, and
// the command must work when the store cannot be opened (a full disk, a
// shell without write access to it). What was sent, by whom and what
// each sink answered is logged instead (stderr, JSON). -state is accepted
// like the other operator commands' and is unused.
var testAlertCommand = listener.Command{
	Name:     "test-alert",
	Synopsis: "[--sink NAME] [--severity S] [-timeout D] [-json]\tsend a TEST alert to each sink the routes reach, wait for each answer, resolve it",
	Run:      runTestAlert,
}

// testAlertTimeout bounds each sink's answer by default.
const testAlertTimeout = 10 * time.Second

// SinkResult is what test-alert found for one sink.
type SinkResult struct {
	Sink         string `json:"sink"`
	Type         string `json:"type"`
	Delivered    bool   `json:"delivered"`
	Error        string `json:"error,omitempty"`
	Resolved     bool   `json:"resolved"`
	ResolveError string `json:"resolve_error,omitempty"`
	TookMS       int64  `json:"took_ms"`
}

func runTestAlert(ctx context.Context, args []string, sio listener.IO) int {
	fs := flag.NewFlagSet("test-alert", flag.ContinueOnError)
	fs.SetOutput(sio.Stderr)
	cfgPath := fs.String("config", "", "config file (default $"+config.EnvPath+", else "+config.DefaultPath+" if present)")
	_ = fs.String("state", "", "accepted like the other commands' -state; test-alert stores nothing")
	sink := fs.String("sink", "", "send to this sink only (default: every sink the routes reach)")
	sev := fs.String("severity", "", "the alert's severity: info, warning, error or critical; given, only the sinks the routes send that severity to (default warning, every routed sink)")
	timeout := fs.Duration("timeout", testAlertTimeout, "how long to wait for each sink's answer (to the trigger, then to the resolve)")
	asJSON := fs.Bool("json", false, "print JSON instead of aligned text")
	fs.Usage = func() {
		fmt.Fprintf(sio.Stderr, "Usage: %s test-alert [flags]\n\n%s\n\nExit status: 0 every sink took it and its resolve, 1 one did not, 2 usage or config error.\n\nFlags:\n",
			filepath.Base(os.Args[0]), "Sends a clearly marked TEST alert to each sink and resolves it.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return listener.ExitOK
		}
		return listener.ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(sio.Stderr, "test-alert: unexpected argument %q\n", fs.Arg(0))
		return listener.ExitUsage
	}
	severity := alert.Warning
	if *sev != "" {
		s, err := alert.ParseSeverity(*sev)
		if err != nil {
			fmt.Fprintf(sio.Stderr, "test-alert: -severity: %v\n", err)
			return listener.ExitUsage
		}
		severity = s
	}
	if *timeout <= 0 {
		fmt.Fprintln(sio.Stderr, "test-alert: -timeout: want more than 0")
		return listener.ExitUsage
	}
	cfg, err := config.LoadUnresolved(config.Path(*cfgPath))
	if err != nil {
		fmt.Fprintf(sio.Stderr, "test-alert: %v\n", err)
		return listener.ExitUsage
	}
	log := zerolog.New(sio.Stderr).With().Timestamp().Str("command", "test-alert").Logger()
	a := testAlert(cfg, severity)
	names, err := testSinks(cfg, a, *sink, *sev != "")
	if err != nil {
		fmt.Fprintf(sio.Stderr, "test-alert: %v\n", err)
		return listener.ExitUsage
	}
	notifiers, buildErrs := buildSinks(cfg, names, log)
	log.Info().Str("key", a.Key).Str("severity", severity.String()).Strs("sinks", names).Str("by", a.Details["sent_by"]).Msg("sending a test alert")
	results := sendTest(ctx, cfg, a, names, notifiers, buildErrs, *timeout)
	logResults(log, a, results)
	if *asJSON {
		enc := json.NewEncoder(sio.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
	} else {
		printTest(sio.Stdout, a, results)
	}
	for _, r := range results {
		if !r.Delivered || !r.Resolved {
			return listener.ExitFailed // not taken, or left open
		}
	}
	return listener.ExitOK
}

// testAlert is the alert test-alert sends: condition test, a key of its
// own, and a summary that says it is a test.
func testAlert(cfg *config.Config, severity alert.Severity) *alert.Alert {
	id := alert.RandomHex(4)
	host := cfg.Host // Validate sets it
	by := sender()
	now := time.Now()
	return &alert.Alert{
		Key:       alert.Key(host, "superguard:test-"+id, alert.CondTest),
		Kind:      alert.Trigger,
		Host:      host,
		Condition: alert.CondTest,
		Severity:  severity,
		Summary:   "TEST alert from superguard on " + host + ", sent by " + by + ": no action needed, it resolves itself",
		Details:   map[string]string{"test": "true", "sent_by": by, "sent_at": now.UTC().Format(time.RFC3339)},
		Action:    "none: this checks that alerts reach this destination",
		Listener:  filepath.Base(os.Args[0]),
		TraceID:   id,
		Time:      now,
	}
}

// sender names who runs the command: the sudo user, else the login name,
// at the host.
func sender() string {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// testSinks picks the sinks: the one named; else, when a severity was
// given, those the routes send an alert of that severity to; else every
// sink a route names (every sink, without routes).
func testSinks(cfg *config.Config, a *alert.Alert, only string, bySeverity bool) ([]string, error) {
	var all []string
	for _, s := range cfg.Sinks {
		all = append(all, s.Name)
	}
	switch {
	case only != "":
		if !slices.Contains(all, only) {
			return nil, fmt.Errorf("-sink %q: no such sink (sinks: %s)", only, orNone(all))
		}
		return []string{only}, nil
	case len(all) == 0:
		return nil, errors.New("no sinks configured: alerts go to the listeners' own logs (sinks: in the config)")
	case bySeverity:
		names := route.Sinks(cfg, a)
		if len(names) == 0 {
			return nil, fmt.Errorf("no route sends a %s alert to any sink (sinks: %s)", a.Severity, strings.Join(all, ", "))
		}
		return names, nil
	case len(cfg.Routes) == 0:
		return all, nil
	}
	var names []string
	for _, r := range cfg.Routes {
		for _, n := range r.Sinks {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// buildSinks builds the sinks, resolving their secrets, and returns those
// named, or each one's error (secrets removed). Every sink is built so
// that errors name a sink by its place in the file (sinks[3]); another
// sink's error (a secret this shell lacks) is not this test's business.
func buildSinks(cfg *config.Config, names []string, log zerolog.Logger) (map[string]alert.Notifier, map[string]error) {
	all, err := notify.Build(cfg, log)
	notifiers := map[string]alert.Notifier{}
	errs := map[string]error{}
	for _, n := range names {
		if nt, ok := all[n]; ok {
			notifiers[n] = nt
			continue
		}
		errs[n] = errors.New(cfg.Redact(sinkError(err, n, cfg)))
	}
	return notifiers, errs
}

// sinkError picks, from Build's joined error, the lines about sink name.
func sinkError(err error, name string, cfg *config.Config) string {
	idx := slices.IndexFunc(cfg.Sinks, func(s config.Sink) bool { return s.Name == name })
	var lines []string
	for line := range strings.Lines(err.Error()) {
		if strings.Contains(line, fmt.Sprintf("sinks[%d]", idx)) {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	if len(lines) == 0 {
		return "cannot be built: " + err.Error()
	}
	return strings.Join(lines, "; ")
}

// sendTest sends a to every sink at once, waits for each answer, then
// resolves it on each sink that took it.
func sendTest(ctx context.Context, cfg *config.Config, a *alert.Alert, names []string, notifiers map[string]alert.Notifier,
	buildErrs map[string]error, timeout time.Duration) []SinkResult {
	results := make([]SinkResult, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		results[i] = SinkResult{Sink: name, Type: sinkType(cfg, name)}
		if err := buildErrs[name]; err != nil {
			results[i].Error = err.Error()
			continue
		}
		n := notifiers[name]
		wg.Go(func() {
			r := &results[i]
			start := time.Now()
			tctx, cancel := context.WithTimeout(ctx, timeout)
			receipt, err := n.Notify(tctx, &alert.Notification{Alert: *a, IncidentID: a.TraceID, Count: 1, FirstSeen: a.Time})
			cancel()
			r.TookMS = time.Since(start).Milliseconds()
			if err != nil {
				r.Error = cfg.Redact(deliveryText(err, tctx, timeout))
				return
			}
			r.Delivered = true
			res := *a
			res.Kind, res.Time = alert.Resolve, time.Now() // each sink marks a resolve its own way
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if _, err := n.Notify(rctx, &alert.Notification{Alert: res, IncidentID: a.TraceID, Count: 1, FirstSeen: a.Time, Ref: receipt.Ref}); err != nil {
				r.ResolveError = cfg.Redact(deliveryText(err, rctx, timeout))
				return
			}
			r.Resolved = true
		})
	}
	wg.Wait()
	return results
}

// logResults logs what each sink answered, for the record of who tested
// what (stdout has the same for the person who ran it).
func logResults(log zerolog.Logger, a *alert.Alert, results []SinkResult) {
	for _, r := range results {
		ev := log.Info()
		if !r.Delivered || !r.Resolved {
			ev = log.Warn()
		}
		if r.Error != "" {
			ev = ev.Str("error", r.Error)
		}
		if r.ResolveError != "" {
			ev = ev.Str("resolve_error", r.ResolveError)
		}
		ev.Str("key", a.Key).Str("sink", r.Sink).Str("type", r.Type).Bool("delivered", r.Delivered).
			Bool("resolved", r.Resolved).Int64("took_ms", r.TookMS).Msg("test alert answer")
	}
}

// deliveryText is a failed delivery's error for people: the sink's own
// words, and a timeout named as such.
func deliveryText(err error, ctx context.Context, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s: %v", timeout, err)
	}
	return err.Error()
}

func sinkType(cfg *config.Config, name string) string {
	for _, s := range cfg.Sinks {
		if s.Name == name {
			return s.Type
		}
	}
	return ""
}

// printTest prints one line per sink and the verdict.
func printTest(w io.Writer, a *alert.Alert, results []SinkResult) {
	fmt.Fprintf(w, "test alert %s (%s) to %d sink(s)\n", a.Key, a.Severity, len(results))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	ok := 0
	for _, r := range results {
		var what string
		switch {
		case !r.Delivered:
			what = "FAILED: " + r.Error
		case r.Resolved:
			ok++
			what = fmt.Sprintf("delivered in %d ms, resolved", r.TookMS)
		default:
			ok++
			what = fmt.Sprintf("delivered in %d ms; the resolve FAILED: %s", r.TookMS, r.ResolveError)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Sink, r.Type, what)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d of %d sink(s) took it\n", ok, len(results))
}
