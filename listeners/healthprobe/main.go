// Command healthprobe is superguard's health prober: HTTP, TCP, command
// and file checks, data staleness and heartbeats (supervisord's
// PROCESS_COMMUNICATION channel and systemd's sd_notify watchdog) on every
// selected process, with thresholds, a start-up grace and a cool-down, and
// restarts through the shared restart governor. See the README's
// healthprobe section.
package main

import (
	"context"
	"flag"
	"os"
	"runtime/debug"
	"time"
	_ "time/tzdata" // active windows' time zones work on hosts without /usr/share/zoneinfo

	"github.com/superguard/superguard/pkg/session"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/listener/operator"
	"github.com/superguard/superguard/pkg/probe"
	"github.com/superguard/superguard/pkg/proctable"
	"github.com/superguard/superguard/pkg/supervisor"
)

const listenerName = "healthprobe"

// gcPercent is healthprobe's GOGC.
const gcPercent = 50

// section is healthprobe's part of the shared YAML file.
type section = sections.Healthprobe

func main() {
	listener.Main(spec)
}

// parts are what healthprobe takes from the skeleton: supervisord
// (required: it restarts through it), the shared file, the state store
// (restart budgets, heartbeats) and the alert pipeline.
var parts = operator.GuardParts(listenerName, sections.File)

var spec = listener.Spec[section]{
	Parts:   parts,
	Summary: "superguard's health prober: probes, staleness, heartbeats and governed restarts",
	Flags:   flags,
	Prepare: sections.Prepare[section],
	// A check whose processes match nothing watches nothing: a typo, or
	// a program renamed.
	Check: func(s *section, procs []supervisor.ProcessInfo) error {
		return sections.Unmatched(listenerName, s.Lists(), procs)
	},
	New:      newListener,
	Commands: []listener.Command{statusCmd, budgetCmd},
}

// flags are the simple case on the command line: one HTTP check.
func flags(fs *flag.FlagSet) func(*section) {
	url := fs.String("url", "", "add an HTTP check of this URL (placeholders such as %(process_num)02d allowed)")
	processes := fs.String("processes", "", "with -url: comma list of process patterns it applies to")
	return func(s *section) {
		if *url == "" {
			return
		}
		s.Checks = append(s.Checks, sections.ProbeCheck{Name: "url", Processes: listener.SplitList(*processes),
			HTTP: &sections.HTTPCheck{URL: *url}})
	}
}

// readSection reads healthprobe's section for an operator command.
func readSection(env *listener.Env) (section, error) {
	return sections.Read[section](env.Config, listenerName)
}

// newListener builds the engine on the skeleton's parts.
func newListener(_ context.Context, env *listener.Env, sec section) (eventlistener.Handler, error) {
	// A round's probes leave garbage in proportion to the targets: collect
	// at half the default growth (BenchmarkRound, 1,000 targets: RSS
	// median 29 -> 25 MB, peak 31-33 -> 29 MB, CPU within the runs'
	// noise). GOGC in the environment overrides it.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	d := durable.Of(env)
	e := &engine{
		log: env.Log, sup: env.Supervisor, alerts: d.Alerts, host: env.Config.Host, redact: env.Config.Redact,
		sem: make(chan struct{}, sec.Concurrency), now: time.Now, status: operator.StatusFile(d.Store.Path(), listenerName),
		bg: env.Background(), targets: map[string]*target{}, beats: map[string]*beat{},
		table: &proctable.Table{Sup: env.Supervisor, Now: time.Now},
	}
	var err error
	if e.checks, err = compileChecks(sec, probe.NewClient(), time.Now); err != nil {
		return nil, err
	}
	// The kill switch: while trading is halted its targets are not probed
	// and nothing is restarted; a latch that cannot be read counts as set.
	if e.latch, e.halted, err = sections.KillSwitch(env.Config, d.Store.Path()); err != nil {
		return nil, err
	}
	e.session = func(ctx context.Context, exchange string) (*session.Timeline, error) {
		st, err := d.Store.Get(ctx)
		if err != nil {
			return nil, err
		}
		return st.Session(ctx, exchange)
	}
	e.gov = &governor.Governor{Store: d.Store, Latch: e.latch, Budget: sec.Budget.Governor()}
	for _, c := range sec.Checks {
		if c.Heartbeat != nil && c.Heartbeat.Channel == "notify" {
			if e.notify, err = newNotifier(sec.NotifyDir, e, env.Log); err != nil {
				return nil, err
			}
			break
		}
	}
	env.Log.Info().Int("checks", len(e.checks)).Bool("kill_switch", e.latch != nil).Str("status", e.status).Msg("healthprobe ready")
	return newHandler(e), nil
}
