// Command memguard is superguard's resource guard: it reads /proc (no ps,
// no fork) every few seconds for each supervised process and its
// descendants, and
//
//   - restarts a process above its memory limit for N consecutive samples,
//     through the restart governor it shares with healthprobe (budget,
//     back-off, nothing while trading is halted, a halt request for a
//     critical program whose budget is spent), after a warning step;
//   - warns when a robust fit of the memory trend crosses the limit within
//     a horizon (a leak), before any restart is needed;
//   - warns about a process tree busy above a number of cores for longer
//     than a duration, and about open file descriptors near the process's
//     own limit;
//   - guards the host: memory used (critical), free disk space (the state
//     store's file system always), CPU and load.
//
// See the README's memguard section.
package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/durable"
	"github.com/superguard/superguard/pkg/listener/operator"
	"github.com/superguard/superguard/pkg/procstat"
	"github.com/superguard/superguard/pkg/proctable"
	"github.com/superguard/superguard/pkg/supervisor"
)

const listenerName = "memguard"

// section is memguard's part of the shared YAML file.
type section = sections.Memguard

func main() {
	listener.Main(spec)
}

// parts are what memguard takes from the skeleton: supervisord (required:
// it restarts through it), the shared file, the state store (restart
// budgets shared with healthprobe) and the alert pipeline.
var parts = operator.GuardParts(listenerName, sections.File)

var spec = listener.Spec[section]{
	Parts:   parts,
	Summary: "superguard's resource guard: memory limits and leaks, CPU, file descriptors and the host, from /proc",
	Flags:   flags,
	Prepare: sections.Prepare[section],
	Check: func(s *section, procs []supervisor.ProcessInfo) error {
		return errors.Join(sections.Unmatched(listenerName, s.Lists(), procs), s.Ties(procs))
	},
	Explain:  explain,
	New:      newListener,
	Commands: []listener.Command{statusCmd, budgetCmd},
}

// flags are the simple case on the command line: one memory limit.
func flags(fs *flag.FlagSet) func(*section) {
	var maxSize config.Size
	fs.Func("max", "add a memory limit of this size (e.g. 2GiB; measure tree_rss, restart after 3 samples above it)", func(v string) error {
		var err error
		maxSize, err = config.ParseSize(v)
		if err == nil && maxSize == 0 {
			err = errors.New("want a size above 0")
		}
		return err
	})
	processes := fs.String("processes", "*", "with -max: comma list of process patterns it applies to")
	return func(s *section) {
		if maxSize > 0 {
			s.Limits = append(s.Limits, sections.MemLimit{Processes: listener.SplitList(*processes), Max: maxSize})
		}
	}
}

// statusCmd is `memguard status [-json]`.
var statusCmd = operator.StatusCommand(parts, "every watched process: measures, limit, trend and time to limit; the host", printStatus)

// budgetCmd is `memguard budget [reset PROCESS...]`.
var budgetCmd = operator.BudgetCommand(parts, func(env *listener.Env) (governor.Budget, error) {
	s, err := sections.Read[section](env.Config, listenerName)
	return s.Budget.Governor(), err
})

// newListener builds the engine on the skeleton's parts.
func newListener(_ context.Context, env *listener.Env, sec section) (eventlistener.Handler, error) {
	d := durable.Of(env)
	reader, err := procstat.New("", "")
	if err != nil {
		return nil, err
	}
	e := &engine{
		log: env.Log, sup: env.Supervisor, alerts: d.Alerts, host: env.Config.Host, redact: env.Config.Redact,
		cfg: sec, reader: reader, now: time.Now, bg: env.Background(),
		status: operator.StatusFile(d.Store.Path(), listenerName), statePath: d.Store.Path(),
		table: &proctable.Table{Sup: env.Supervisor, Every: relistEvery, Now: time.Now}, procs: map[string]*watched{}, self: os.Getpid(),
	}
	// The kill switch: nothing is restarted while trading is halted; a
	// latch that cannot be read counts as set.
	latch, _, err := sections.KillSwitch(env.Config, d.Store.Path())
	if err != nil {
		return nil, err
	}
	e.latch = latch
	e.gov = &governor.Governor{Store: d.Store, Latch: latch, Budget: sec.Budget.Governor()}
	env.Log.Info().Int("limits", len(sec.Limits)).Int("cpu", len(sec.CPU)).Int("fds", len(sec.FDs)).Bool("host", !sec.Host.Off).
		Bool("kill_switch", latch != nil).Str("status", e.status).Msg("memguard ready")
	return &proctable.Handler{Table: e.table, Tick: e.tick, Wait: e.wg.Wait}, nil
}

// relistEvery is how often memguard reads every process from supervisord;
// in between, PROCESS_STATE events keep its table (a gap in the events
// forces a read). A read of 200 processes costs ~100 ms of CPU in XML-RPC
// decoding (BenchmarkRound): every 2 minutes rather than healthprobe's 30 s.
const relistEvery = 2 * time.Minute
