// Package governor is the restart governor every superguard listener that
// restarts a program goes through (healthprobe, memguard): at most Max
// automated restarts of one process per Window, a growing back-off between
// them, nothing at all while trading is halted, and nothing when it cannot
// tell (the store or the latch unreadable). Restarts are recorded in the
// shared state store, so two listeners never restart the same program back
// to back; a restart a person made (supervisorctl) is never recorded and
// never spends the budget.
package governor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/superguard/superguard/internal/enum"
	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Budget bounds automated restarts of one process.
type Budget struct {
	// Max restarts per Window (default 3 per hour).
	Max    int
	Window time.Duration
	// Backoff is the wait after the first restart in the window before the
	// next may happen; it doubles with each further restart, up to
	// MaxBackoff (defaults 30s and 10m).
	Backoff, MaxBackoff time.Duration
}

// Defaults of Budget.
const (
	DefaultMax        = 3
	DefaultWindow     = time.Hour
	DefaultBackoff    = 30 * time.Second
	DefaultMaxBackoff = 10 * time.Minute
)

// WithDefaults fills in the zero fields.
func (b Budget) WithDefaults() Budget {
	b.Max = cmp.Or(b.Max, DefaultMax)
	b.Window = cmp.Or(b.Window, DefaultWindow)
	b.Backoff = cmp.Or(b.Backoff, DefaultBackoff)
	b.MaxBackoff = cmp.Or(b.MaxBackoff, DefaultMaxBackoff)
	return b
}

// Validate checks a budget after WithDefaults; errors name the fields
// under prefix ("listeners.healthprobe.budget").
func (b Budget) Validate(prefix string) error {
	var errs []error
	if b.Max < 1 {
		errs = append(errs, fmt.Errorf("%s.max: %d: want at least 1", prefix, b.Max))
	}
	if b.Window < time.Minute {
		errs = append(errs, fmt.Errorf("%s.window: %s: want at least 1m", prefix, b.Window))
	}
	if b.Backoff < 0 || b.MaxBackoff < b.Backoff {
		errs = append(errs, fmt.Errorf("%s.backoff %s, max_backoff %s: want 0 <= backoff <= max_backoff", prefix, b.Backoff, b.MaxBackoff))
	}
	return errors.Join(errs...)
}

// backoff is the wait after the n-th restart in the window (n >= 1).
func (b Budget) backoff(n int) time.Duration {
	d := b.Backoff
	for i := 1; i < n && d < b.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, b.MaxBackoff)
}

// Store is where restarts are recorded (*state.Store).
type Store interface {
	Restarts(ctx context.Context, process string, since time.Time) ([]time.Time, error)
	RecordRestart(ctx context.Context, process string, at time.Time, window time.Duration) (int, error)
}

// Verdict is the governor's answer to "may I restart this process now?".
type Verdict int

// Verdicts.
const (
	// Allow: restart it, then Record the restart.
	Allow Verdict = iota
	// Wait: the back-off since the last restart has not passed (Until).
	Wait
	// Spent: Max restarts in the window already; no more until the oldest
	// leaves the window (Until) or an operator resets the budget.
	Spent
	// Halted: trading is halted (or the latch cannot be read): nothing is
	// restarted.
	Halted
	// Unknown: the restart record cannot be read: nothing is restarted.
	Unknown
)

var verdicts = enum.Names[Verdict]{Kind: "verdict", Names: []string{"allow", "wait", "spent", "halted", "unknown"}}

func (v Verdict) String() string { return verdicts.String(v) }

// Decision is a Verdict with what it was based on.
type Decision struct {
	Verdict Verdict
	// Used restarts in the window, of Max.
	Used, Max int
	// Until is when a Wait or Spent ends (zero: not known).
	Until time.Time
	// Err is why the verdict is Halted or Unknown when a read failed.
	Err error
}

// Left is how many restarts the budget has left.
func (d Decision) Left() int { return max(d.Max-d.Used, 0) }

// String says it for a log line or an alert.
func (d Decision) String() string {
	switch d.Verdict {
	case Allow:
		return fmt.Sprintf("allowed (%d of %d restarts used)", d.Used, d.Max)
	case Wait:
		return fmt.Sprintf("backing off until %s (%d of %d restarts used)", d.Until.Format(time.TimeOnly), d.Used, d.Max)
	case Spent:
		return fmt.Sprintf("budget spent: %d of %d restarts in the window", d.Used, d.Max)
	case Halted:
		if d.Err != nil {
			return fmt.Sprintf("no restart: the halt latch cannot be read (%v): treated as halted", d.Err)
		}
		return "no restart: trading is halted"
	default:
		return fmt.Sprintf("no restart: the restart record cannot be read (%v)", d.Err)
	}
}

// Governor answers for one budget. Latch nil means no kill switch is
// configured.
type Governor struct {
	Store  Store
	Latch  halt.Latch
	Budget Budget
	Now    func() time.Time // default time.Now
}

func (g *Governor) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// Ask decides whether process may be restarted now.
func (g *Governor) Ask(ctx context.Context, process string) Decision {
	b := g.Budget.WithDefaults()
	if g.Latch != nil {
		if halted, _, err := halt.Halted(ctx, g.Latch); halted {
			return Decision{Verdict: Halted, Max: b.Max, Err: err}
		}
	}
	now := g.now()
	times, err := g.Store.Restarts(ctx, process, now.Add(-b.Window))
	if err != nil {
		return Decision{Verdict: Unknown, Max: b.Max, Err: err}
	}
	d := Decision{Verdict: Allow, Used: len(times), Max: b.Max}
	switch {
	case len(times) >= b.Max:
		d.Verdict, d.Until = Spent, times[len(times)-b.Max].Add(b.Window)
	case len(times) > 0:
		if until := times[len(times)-1].Add(b.backoff(len(times))); now.Before(until) {
			d.Verdict, d.Until = Wait, until
		}
	}
	return d
}

// Record records a restart of process made now.
func (g *Governor) Record(ctx context.Context, process string) error {
	b := g.Budget.WithDefaults()
	_, err := g.Store.RecordRestart(ctx, process, g.now(), b.Window)
	return err
}

// Restarter is the part of supervisord's API a restart uses.
type Restarter interface {
	StopProcess(ctx context.Context, name string, wait bool) error
	StartProcess(ctx context.Context, name string, wait bool) error
}

// Restart stops the process name if it runs and starts it (from any
// state: a FATAL one is started).
func Restart(ctx context.Context, sup Restarter, name string) error {
	if err := sup.StopProcess(ctx, name, true); err != nil && !supervisor.IsFault(err, supervisor.FaultNotRunning) {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	if err := sup.StartProcess(ctx, name, true); err != nil && !supervisor.IsFault(err, supervisor.FaultAlreadyStarted) {
		return fmt.Errorf("start %s: %w", name, err)
	}
	return nil
}

// Supervisor is what a guard that restarts through the governor asks of
// supervisord (supervisor.Client implements it): its process table, a
// process's state before acting, the restart, and a halt request.
type Supervisor interface {
	GetAllProcessInfo(ctx context.Context) ([]supervisor.ProcessInfo, error)
	GetProcessInfo(ctx context.Context, name string) (supervisor.ProcessInfo, error)
	Restarter
	halt.RemoteSender
}
