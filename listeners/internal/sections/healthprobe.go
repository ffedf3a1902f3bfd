package sections

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/superguard/superguard/internal/httpurl"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/probe"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/session"
)

// Healthprobe is healthprobe's section: its checks, the restart budget
// every restart goes through, and how probes run.
type Healthprobe struct {
	Checks []ProbeCheck `yaml:"checks"`
	// Budget is the restart governor's budget per process.
	Budget Budget `yaml:"budget"`
	// Concurrency bounds the probes in flight at once (default 256: a
	// thousand targets answering in 200 ms take 0.8 s a round).
	Concurrency int `yaml:"concurrency"`
	// NotifyDir holds the sd_notify sockets, one per process of a
	// heartbeat check with channel notify: NotifyDir/GROUP:NAME.sock
	// (default /run/superguard/notify).
	NotifyDir string `yaml:"notify_dir"`
}

// Budget is governor.Budget in the YAML.
type Budget struct {
	Max        int           `yaml:"max"`
	Window     time.Duration `yaml:"window"`
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// Governor is the budget with its defaults.
func (b Budget) Governor() governor.Budget {
	return governor.Budget{Max: b.Max, Window: b.Window, Backoff: b.Backoff, MaxBackoff: b.MaxBackoff}.WithDefaults()
}

// Lists are the section's lists of per-process patterns (for Unmatched).
func (h Healthprobe) Lists() []GuardList {
	return []GuardList{{"checks", patternsOf(h.Checks, func(c ProbeCheck) []string { return c.Processes })}}
}

// ProbeCheck is one health check, applied to every process its Processes select.
// Exactly one of HTTP, TCP, Command, File and Heartbeat is set.
type ProbeCheck struct {
	Name      string   `yaml:"name"`
	Processes []string `yaml:"processes"` // process patterns (package procmatch)

	HTTP      *HTTPCheck      `yaml:"http"`
	TCP       *TCPCheck       `yaml:"tcp"`
	Command   *CommandCheck   `yaml:"command"`
	File      *FileCheck      `yaml:"file"`
	Heartbeat *HeartbeatCheck `yaml:"heartbeat"`

	// Every is the probe period: a multiple of 5s (TICK_5; default 5s).
	// A heartbeat check is evaluated on every TICK_5.
	Every time.Duration `yaml:"every"`
	// Timeout bounds one probe (default 2s, at most Every).
	Timeout time.Duration `yaml:"timeout"`
	// Grace is the start-up grace, from the process's start as supervisord
	// reports it (default 30s): failures in it do not count. READY=1 on
	// the notify socket ends it early.
	Grace time.Duration `yaml:"grace"`
	// Failures within Within probes (default 3 of 3: consecutive) make the
	// check fail; Successes consecutive passes (default 2) make it healthy
	// again.
	Failures  int `yaml:"failures"`
	Within    int `yaml:"within"`
	Successes int `yaml:"successes"`
	// Cooldown after a restart before the check counts again (default 60s,
	// on top of the grace).
	Cooldown time.Duration `yaml:"cooldown"`
	// Active limits the check to windows of the week in a time zone
	// (outside them it is paused). Nil: always.
	Active *Active `yaml:"active"`
	// Policy: restart (default), alert, or halt (ask haltguard to halt
	// trading).
	Policy string `yaml:"policy"`
	// Critical: when the restart budget is spent, ask haltguard to halt.
	Critical bool `yaml:"critical"`
	// Diagnostics runs before a restart (e.g. a stack dump), its output
	// attached to the alert; PreRestart and PostRestart around it.
	Diagnostics *Hook `yaml:"diagnostics"`
	PreRestart  *Hook `yaml:"pre_restart"`
	PostRestart *Hook `yaml:"post_restart"`
}

// HTTPCheck is an HTTP probe. URL and header values may use supervisord's
// placeholders %(process_name)s, %(group_name)s, %(program_name)s,
// %(process_num)02d, %(pid)d.
type HTTPCheck struct {
	URL          string            `yaml:"url"`
	Method       string            `yaml:"method"`
	Headers      map[string]string `yaml:"headers"`
	Status       []int             `yaml:"status"` // default any 2xx
	BodyContains string            `yaml:"body_contains"`
	BodyRegex    string            `yaml:"body_regex"`
	// Assert are conditions on the JSON body in the expr language:
	// `status == "healthy"`, `md_lag_ms < 500`.
	Assert []string `yaml:"assert"`
	// Timestamp is the data timestamp whose age is checked.
	Timestamp *Timestamp `yaml:"timestamp"`
}

// Timestamp is a data timestamp in a JSON body.
type Timestamp struct {
	Field  string        `yaml:"field"`  // expr expression: last_tick, feed.last_tick_ms
	Format string        `yaml:"format"` // rfc3339 (default), unix, unix_ms
	MaxAge time.Duration `yaml:"max_age"`
}

// TCPCheck connects to Address (host:port, placeholders allowed).
type TCPCheck struct {
	Address string `yaml:"address"`
}

// CommandCheck runs Argv (placeholders allowed); exit 0 is healthy.
type CommandCheck struct {
	Argv []string `yaml:"argv"`
}

// FileCheck fails when Path (placeholders allowed) was last modified more
// than MaxAge ago.
type FileCheck struct {
	Path   string        `yaml:"path"`
	MaxAge time.Duration `yaml:"max_age"`
}

// HeartbeatCheck fails when no heartbeat arrived within TTL. Channel
// stdout: the program writes <!--XSUPERVISOR:BEGIN-->...<!--XSUPERVISOR:END-->
// on stdout (PROCESS_COMMUNICATION_STDOUT; its stdout_capture_maxbytes must
// be set). Channel notify: sd_notify WATCHDOG=1 datagrams to
// $NOTIFY_SOCKET (NotifyDir/GROUP:NAME.sock); a WATCHDOG_USEC=
// message changes the process's TTL, READY=1 ends its grace.
type HeartbeatCheck struct {
	Channel string        `yaml:"channel"` // stdout or notify
	TTL     time.Duration `yaml:"ttl"`
}

// Active is a set of weekly windows in a time zone, and/or the trading
// sessions marketclock publishes (session: [open, close-only]): the check
// is active in any of them.
type Active struct {
	Timezone string          `yaml:"timezone"`
	Windows  []config.Window `yaml:"windows"`
	// Session names session states (package session); Exchange the
	// exchange whose timeline is read (empty: the only one published).
	Session  []string `yaml:"session"`
	Exchange string   `yaml:"exchange"`
	loc      *time.Location
}

// Contains reports whether t falls in one of the windows, or in one of
// the sessions by timeline tl. A session that cannot be known (no
// timeline, or one past its horizon: marketclock not running) counts as
// active: the check runs rather than being silenced.
func (a *Active) Contains(t time.Time, tl *session.Timeline) bool {
	if a == nil {
		return true
	}
	local := t.In(a.loc)
	for _, w := range a.Windows {
		if w.Contains(local) {
			return true
		}
	}
	if len(a.Session) > 0 {
		in, known := session.Window{Sessions: a.Session}.In(tl, t)
		return in || !known
	}
	return false
}

// Hook is a command run around a restart.
type Hook struct {
	Argv    []string      `yaml:"argv"`
	Timeout time.Duration `yaml:"timeout"` // default 10s
}

// ProbeCheck defaults.
const (
	DefaultEvery       = 5 * time.Second
	DefaultTimeout     = 2 * time.Second
	DefaultGrace       = 30 * time.Second
	DefaultFailures    = 3
	DefaultSuccesses   = 2
	DefaultCooldown    = time.Minute
	DefaultConcurrency = 256
	DefaultHookTimeout = 10 * time.Second
	DefaultNotifyDir   = "/run/superguard/notify"
	// TickPeriod is the finest period: healthprobe runs on TICK_5.
	TickPeriod = 5 * time.Second
)

// Policies.
const (
	PolicyRestart = "restart"
	PolicyAlert   = "alert"
	PolicyHalt    = "halt"
)

// WithDefaults fills in the zero fields.
func (h Healthprobe) WithDefaults() Healthprobe {
	h.Concurrency = cmp.Or(h.Concurrency, DefaultConcurrency)
	h.NotifyDir = cmp.Or(h.NotifyDir, DefaultNotifyDir)
	checks := make([]ProbeCheck, len(h.Checks))
	for i, c := range h.Checks {
		checks[i] = c.withDefaults()
	}
	h.Checks = checks
	return h
}

func (c ProbeCheck) withDefaults() ProbeCheck {
	c.Every = cmp.Or(c.Every, DefaultEvery)
	c.Timeout = cmp.Or(c.Timeout, min(DefaultTimeout, c.Every))
	c.Grace = cmp.Or(c.Grace, DefaultGrace)
	c.Cooldown = cmp.Or(c.Cooldown, DefaultCooldown)
	c.Failures = cmp.Or(c.Failures, DefaultFailures)
	c.Within = cmp.Or(c.Within, c.Failures)
	c.Successes = cmp.Or(c.Successes, DefaultSuccesses)
	c.Policy = cmp.Or(c.Policy, PolicyRestart)
	if c.HTTP != nil && c.HTTP.Timestamp != nil && c.HTTP.Timestamp.Format == "" {
		ts := *c.HTTP.Timestamp
		ts.Format = string(probe.RFC3339)
		hc := *c.HTTP
		hc.Timestamp = &ts
		c.HTTP = &hc
	}
	for _, h := range []**Hook{&c.Diagnostics, &c.PreRestart, &c.PostRestart} {
		if *h != nil && (*h).Timeout == 0 {
			hk := **h
			hk.Timeout = DefaultHookTimeout
			*h = &hk
		}
	}
	return c
}

// Validate checks the section after WithDefaults; every problem is
// reported, each naming its field.
func (h Healthprobe) Validate() error {
	const at = "listeners.healthprobe."
	var errs []error
	if len(h.Checks) == 0 {
		errs = append(errs, errors.New(at+"checks: no check configured: healthprobe would watch nothing"))
	}
	if h.Concurrency < 1 {
		errs = append(errs, fmt.Errorf(at+"concurrency: %d: want at least 1", h.Concurrency))
	}
	if err := h.Budget.Governor().Validate(at + "budget"); err != nil {
		errs = append(errs, err)
	}
	names := map[string]bool{}
	for i := range h.Checks {
		c := &h.Checks[i]
		path := fmt.Sprintf("%schecks[%d]", at, i)
		if c.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: required (it names the check in alerts and status)", path))
		} else if names[c.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", path, c.Name))
		}
		names[c.Name] = true
		errs = append(errs, c.validate(path)...)
	}
	return errors.Join(errs...)
}

func (c *ProbeCheck) validate(path string) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{path, field}, args...)...))
	}
	if len(c.Processes) == 0 {
		add("processes", "required: the process patterns the check applies to")
	}
	if err := procmatch.CheckAll(path+".processes", c.Processes); err != nil {
		errs = append(errs, err)
	}
	kinds := 0
	for _, set := range []bool{c.HTTP != nil, c.TCP != nil, c.Command != nil, c.File != nil, c.Heartbeat != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		add("http", "want exactly one of http, tcp, command, file and heartbeat (found %d)", kinds)
	}
	if c.Every < TickPeriod || c.Every%TickPeriod != 0 {
		add("every", "%s: want a multiple of 5s (healthprobe runs on TICK_5)", c.Every)
	}
	if c.Timeout <= 0 || c.Timeout > c.Every {
		add("timeout", "%s: want more than 0 and at most every (%s)", c.Timeout, c.Every)
	}
	if c.Grace < 0 || c.Cooldown < 0 {
		add("grace", "grace and cooldown must not be negative")
	}
	if c.Failures < 1 || c.Within < c.Failures {
		add("failures", "%d within %d probes: want failures >= 1 and within >= failures", c.Failures, c.Within)
	}
	if c.Within > 100 {
		add("within", "%d: at most 100 probes", c.Within)
	}
	if c.Successes < 1 {
		add("successes", "%d: want at least 1", c.Successes)
	}
	switch c.Policy {
	case PolicyRestart, PolicyAlert, PolicyHalt:
	default:
		add("policy", "%q: want restart, alert or halt", c.Policy)
	}
	if c.Active != nil {
		loc, err := config.LoadZone(path+".active.timezone", c.Active.Timezone)
		if err != nil {
			errs = append(errs, err)
		}
		c.Active.loc = loc
		if len(c.Active.Windows) == 0 && len(c.Active.Session) == 0 {
			add("active.windows", "at least one window or session (or leave active out: always)")
		}
		if err := session.CheckNames(path+".active.session", c.Active.Session); err != nil {
			errs = append(errs, err)
		}
		for i := range c.Active.Windows {
			if err := c.Active.Windows[i].Validate(fmt.Sprintf("%s.active.windows[%d]", path, i)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for name, h := range map[string]*Hook{"diagnostics": c.Diagnostics, "pre_restart": c.PreRestart, "post_restart": c.PostRestart} {
		if h != nil && (len(h.Argv) == 0 || h.Timeout <= 0) {
			add(name, "want argv (a list: the program and its arguments) and a positive timeout")
		} else if h != nil {
			errs = append(errs, templates(path+"."+name+".argv", h.Argv...)...)
		}
	}
	switch {
	case c.HTTP != nil:
		errs = append(errs, c.HTTP.validate(path+".http")...)
	case c.TCP != nil:
		if c.TCP.Address == "" {
			add("tcp.address", "required (host:port)")
		}
		errs = append(errs, templates(path+".tcp.address", c.TCP.Address)...)
	case c.Command != nil:
		if len(c.Command.Argv) == 0 {
			add("command.argv", "required: the program and its arguments, as a list")
		}
		errs = append(errs, templates(path+".command.argv", c.Command.Argv...)...)
	case c.File != nil:
		if c.File.Path == "" {
			add("file.path", "required")
		}
		if c.File.MaxAge <= 0 {
			add("file.max_age", "want a positive duration")
		}
		errs = append(errs, templates(path+".file.path", c.File.Path)...)
	case c.Heartbeat != nil:
		if c.Heartbeat.Channel != "stdout" && c.Heartbeat.Channel != "notify" {
			add("heartbeat.channel", "%q: want stdout (XSUPERVISOR on stdout) or notify (sd_notify)", c.Heartbeat.Channel)
		}
		if c.Heartbeat.TTL < TickPeriod {
			add("heartbeat.ttl", "%s: shorter than the tick healthprobe checks it on (5s): want at least 5s", c.Heartbeat.TTL)
		}
	}
	return errs
}

func (h *HTTPCheck) validate(path string) []error {
	var errs []error
	if !httpURLTemplate(h.URL) {
		errs = append(errs, fmt.Errorf("%s.url: %q: want an absolute http or https URL", path, h.URL))
	}
	errs = append(errs, templates(path+".url", h.URL)...)
	for k, v := range h.Headers {
		errs = append(errs, templates(path+".headers."+k, v)...)
	}
	for i, s := range h.Status {
		if s < 100 || s > 599 {
			errs = append(errs, fmt.Errorf("%s.status[%d]: %d: not an HTTP status", path, i, s))
		}
	}
	if h.BodyRegex != "" {
		if _, err := regexp.Compile(h.BodyRegex); err != nil {
			errs = append(errs, fmt.Errorf("%s.body_regex: %w", path, err))
		}
	}
	for i, a := range h.Assert {
		if _, err := probe.Compile(a); err != nil {
			errs = append(errs, fmt.Errorf("%s.assert[%d]: %w", path, i, err))
		}
	}
	if ts := h.Timestamp; ts != nil {
		if _, err := probe.CompileStale(probe.Stale{Field: ts.Field, Format: probe.TimeFormat(ts.Format), MaxAge: ts.MaxAge}); err != nil {
			errs = append(errs, fmt.Errorf("%s.timestamp: %w", path, err))
		}
	}
	return errs
}

// httpURLTemplate reports whether u, with its placeholders filled in, is
// an absolute http(s) URL.
func httpURLTemplate(u string) bool {
	return httpurl.Valid(probe.Expand(u, probe.Process{Group: "g", Name: "p_0", PID: 1}))
}

// templates checks the placeholders of values.
func templates(field string, values ...string) []error {
	var errs []error
	for _, v := range values {
		if err := probe.CheckTemplate(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	return errs
}
