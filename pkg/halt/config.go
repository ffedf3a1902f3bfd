package halt

import (
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Defaults filled in by Config.withDefaults.
const (
	// DefaultStopWait is supervisord's own stopwaitsecs default, used for the
	// verification deadline when the targets' setting cannot be read.
	DefaultStopWait = 10 * time.Second
	// VerifyMargin is added to the targets' stopwaitsecs: supervisord's own
	// SIGKILL normally comes first, haltguard's is the safety net.
	VerifyMargin = 2 * time.Second
	// DefaultFlattenTimeout bounds the flatten command.
	DefaultFlattenTimeout = 30 * time.Second
)

// StopMode says how the stop requests reach supervisord.
type StopMode string

// Stop modes. Both send every stop at once with wait=false, so one slow
// process never delays another.
const (
	// StopMulticall sends one system.multicall of stopProcess(name, false)
	// calls: one request for supervisord's single-threaded loop to parse,
	// measured the fastest. A server without system.multicall falls back
	// to StopConcurrent.
	StopMulticall StopMode = "multicall"
	// StopConcurrent sends one stopProcess(name, false) request per target,
	// each from its own goroutine.
	StopConcurrent StopMode = "concurrent"
)

// Config configures the halt engine: which programs are critical, what a
// halt stops, and how. The haltguard listener fills it from its section of
// the shared config.
type Config struct {
	// Critical selects the safety-critical programs whose failure halts
	// trading, e.g. ["risk_manager"] or ["risk:*"] (procmatch patterns).
	Critical []string
	// Targets selects what a halt stops, e.g. ["trading"] (a whole group)
	// or ["trading:*", "hedger"] (procmatch patterns).
	Targets []string
	// VerifyTimeout is how long the targets get to stop before haltguard
	// sends SIGKILL. Zero means the targets' largest stopwaitsecs (read
	// from supervisord) plus VerifyMargin.
	VerifyTimeout time.Duration
	// Flatten optionally runs a command after the stops (e.g. one that
	// cancels orders and flattens positions at the broker).
	Flatten FlattenConfig
	// StopMode defaults to StopMulticall.
	StopMode StopMode
	// Self is the running listener's own "group:name", never a target.
	Self string
}

// FlattenConfig is the optional flatten command. It runs without a shell,
// with the halt's reason, trigger and trace id in its environment
// (SUPERGUARD_HALT_REASON, SUPERGUARD_HALT_TRIGGER, SUPERGUARD_HALT_BY,
// SUPERGUARD_TRACE_ID).
type FlattenConfig struct {
	Command []string      // argv; empty disables flattening
	Timeout time.Duration // default DefaultFlattenTimeout
	// PassEnv names the variables of haltguard's environment the command
	// gets besides PATH, HOME, LANG, TZ and the SUPERGUARD_HALT_* ones
	// (e.g. BROKER_API_KEY_FILE). Nothing else of haltguard's environment
	// (sink secrets, the RPC password) reaches it.
	PassEnv []string
}

// Validate checks the configuration on its own; Check compares it with a
// running supervisord. Errors name the field.
func (c Config) Validate() error {
	var errs []error
	if len(c.Critical) == 0 {
		errs = append(errs, errors.New("critical: no critical programs: name at least one (e.g. risk_manager)"))
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("targets: empty target list: name the groups or programs a halt stops (e.g. trading)"))
	}
	if err := procmatch.CheckAll("critical", c.Critical); err != nil {
		errs = append(errs, err)
	}
	if err := procmatch.CheckAll("targets", c.Targets); err != nil {
		errs = append(errs, err)
	}
	for _, p := range c.Critical {
		for _, t := range c.Targets {
			if p == t {
				errs = append(errs, fmt.Errorf("targets: %q is also critical: a halt must not stop what it protects", t))
			}
		}
	}
	if c.VerifyTimeout < 0 {
		errs = append(errs, fmt.Errorf("verify_timeout: %v is negative", c.VerifyTimeout))
	}
	if c.Flatten.Timeout < 0 {
		errs = append(errs, fmt.Errorf("flatten.timeout: %v is negative", c.Flatten.Timeout))
	}
	for i, a := range c.Flatten.Command {
		if i == 0 && a == "" {
			errs = append(errs, errors.New("flatten.command[0]: empty program"))
		}
	}
	switch c.StopMode {
	case "", StopMulticall, StopConcurrent:
	default:
		errs = append(errs, fmt.Errorf("stop_mode: %q: want multicall or concurrent", c.StopMode))
	}
	return errors.Join(errs...)
}

// Check validates the configuration against supervisord's process list
// (getAllProcessInfo) and the local system: every pattern must select a
// process, no process may be both critical and a target, haltguard must not
// target itself, and the flatten program must exist.
func (c Config) Check(procs []supervisor.ProcessInfo) error {
	var errs []error
	for _, p := range procmatch.Unmatched(c.Critical, procs) {
		errs = append(errs, fmt.Errorf("critical: %q matches no program or group in supervisord", p))
	}
	for _, p := range procmatch.Unmatched(c.Targets, procs) {
		errs = append(errs, fmt.Errorf("targets: %q matches no program or group in supervisord (unknown group?)", p))
	}
	targets := 0
	for _, p := range procs {
		if !procmatch.Any(c.Targets, p.Group, p.Name) {
			continue
		}
		switch {
		case c.IsCritical(p):
			errs = append(errs, fmt.Errorf("targets: %s is also critical: a halt must not stop what it protects", p.FullName()))
		case p.FullName() == c.Self:
			errs = append(errs, fmt.Errorf("targets: %s is the kill switch itself", p.FullName()))
		default:
			targets++
		}
	}
	if targets == 0 && len(c.Targets) > 0 {
		errs = append(errs, errors.New("targets: select no process a halt could stop"))
	}
	if len(c.Flatten.Command) > 0 {
		if _, err := exec.LookPath(c.Flatten.Command[0]); err != nil {
			errs = append(errs, fmt.Errorf("flatten.command[0]: %w", err))
		}
	}
	return errors.Join(errs...)
}

// IsTarget reports whether p is a halt target: selected by Targets, and
// neither critical nor the kill switch itself. Listeners that restart
// processes use it with the latch (Halted) to leave halted targets alone.
func (c Config) IsTarget(p supervisor.ProcessInfo) bool {
	return procmatch.Any(c.Targets, p.Group, p.Name) && !c.IsCritical(p) && p.FullName() != c.Self
}

// IsCritical reports whether p is a critical program: selected by Critical.
func (c Config) IsCritical(p supervisor.ProcessInfo) bool {
	return procmatch.Any(c.Critical, p.Group, p.Name)
}

func (c Config) stopMode() StopMode {
	if c.StopMode == "" {
		return StopMulticall
	}
	return c.StopMode
}

func (c Config) flattenTimeout() time.Duration {
	if c.Flatten.Timeout == 0 {
		return DefaultFlattenTimeout
	}
	return c.Flatten.Timeout
}
