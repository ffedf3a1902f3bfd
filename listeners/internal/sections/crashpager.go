package sections

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/superguard/superguard/internal/httpurl"
	"github.com/superguard/superguard/pkg/procmatch"
)

// Crashpager is crashpager's own configuration: the `listeners: crashpager:`
// section of the shared YAML file, with flags applied over it. The zero
// value of every field means "use the default" (see defaults).
type Crashpager struct {
	// Include and Exclude select the programs crashpager watches for crashes
	// (process patterns, see package procmatch: a bare word selects a
	// program or a whole group of that name). An empty Include selects
	// every program.
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`

	// SpreeThreshold: more than this many unexpected exits of one program
	// within SpreeWindow is a restart spree (critical). Default 3 in 5m.
	SpreeThreshold int           `yaml:"spree_threshold"`
	SpreeWindow    time.Duration `yaml:"spree_window"`

	// StableFor is how long a program must stay RUNNING before its exited,
	// spree and fatal incidents resolve. Checked on every TICK. Default 1m.
	StableFor time.Duration `yaml:"stable_for"`

	// TailBytes bounds the stderr tail attached to an alert (default 2048;
	// -1 disables the tail). TailTimeout bounds the XML-RPC calls made while
	// handling one event, before its ack (default 200ms); a call that misses
	// it just leaves the detail out.
	TailBytes   int           `yaml:"tail_bytes"`
	TailTimeout time.Duration `yaml:"tail_timeout"`

	// Listeners names the superguard listener processes crashpager watches
	// (process patterns, as for Include). Their exits and
	// FATALs page with condition "listener", and so does a heartbeat older
	// than LatePeriods times HeartbeatPeriod. Default: haltguard,
	// healthprobe, memguard, eventlog.
	Listeners []string `yaml:"listeners"`
	// HeartbeatPeriod is the TICK period the watched listeners record their
	// heartbeats at (default 60s, for TICK_60). LatePeriods (default 3) is
	// how many periods may pass before a listener counts as stuck.
	HeartbeatPeriod time.Duration `yaml:"heartbeat_period"`
	LatePeriods     int           `yaml:"late_periods"`

	// Runbook is an optional link attached to every alert.
	Runbook string `yaml:"runbook"`

	// DeadMan is the dead-man's switch: a URL pinged on a timer.
	DeadMan DeadMan `yaml:"deadman"`
	// Watchdog is the always-firing alert re-posted to Alertmanager sinks.
	Watchdog Watchdog `yaml:"watchdog"`
}

// DeadMan configures the dead-man's switch: an external heartbeat
// monitor's URL pinged every Interval, whose silence pages someone when the
// host or the whole suite is dead. The URL usually carries a token, so it
// comes only from an environment variable (URLEnv) or a file (URLFile), and
// never appears in a log line or an error. Without either it is off.
type DeadMan struct {
	URLEnv   string        `yaml:"url_env"`
	URLFile  string        `yaml:"url_file"`
	Method   string        `yaml:"method"`   // GET (default) or POST
	Interval time.Duration `yaml:"interval"` // default 1m
	Timeout  time.Duration `yaml:"timeout"`  // per ping, default 10s

	// URL is the resolved URL (by Resolve); never logged or written.
	URL string `yaml:"-"`
}

// Watchdog configures the Watchdog alert: an alert that always fires,
// re-posted every Interval to every Alertmanager sink, so that an external
// receiver can page on its absence (the pattern of Prometheus' Watchdog).
type Watchdog struct {
	Disabled bool          `yaml:"disabled"`
	Interval time.Duration `yaml:"interval"` // default 1m
	// DegradedAfter: the Watchdog and the dead-man ping stop while the
	// state store cannot be written, or while undelivered alerts have
	// waited longer than this with nothing delivered meanwhile (every sink
	// failing). Default 10m.
	DegradedAfter time.Duration `yaml:"degraded_after"`
}

// Defaults used by WithDefaults.
const (
	defaultSpreeThreshold  = 3
	defaultSpreeWindow     = 5 * time.Minute
	defaultStableFor       = time.Minute
	defaultTailBytes       = 2048
	defaultTailTimeout     = 200 * time.Millisecond
	defaultHeartbeatPeriod = time.Minute
	defaultLatePeriods     = 3
	defaultDeadManInterval = time.Minute
	defaultDeadManTimeout  = 10 * time.Second
	defaultWatchdogEvery   = time.Minute
	defaultDegradedAfter   = 10 * time.Minute
	maxTailBytes           = 64 << 10
)

// defaultListeners are the superguard listeners watched when the config
// names none.
var defaultListeners = []string{"haltguard", "healthprobe", "memguard", "eventlog"}

// WithDefaults returns c with every unset field filled in.
func (c Crashpager) WithDefaults() Crashpager {
	if c.SpreeThreshold == 0 {
		c.SpreeThreshold = defaultSpreeThreshold
	}
	if c.SpreeWindow == 0 {
		c.SpreeWindow = defaultSpreeWindow
	}
	if c.StableFor == 0 {
		c.StableFor = defaultStableFor
	}
	if c.TailBytes == 0 {
		c.TailBytes = defaultTailBytes
	}
	if c.TailTimeout == 0 {
		c.TailTimeout = defaultTailTimeout
	}
	if c.Listeners == nil {
		c.Listeners = append([]string(nil), defaultListeners...)
	}
	if c.HeartbeatPeriod == 0 {
		c.HeartbeatPeriod = defaultHeartbeatPeriod
	}
	if c.LatePeriods == 0 {
		c.LatePeriods = defaultLatePeriods
	}
	if c.DeadMan.Method == "" {
		c.DeadMan.Method = "GET"
	}
	if c.DeadMan.Interval == 0 {
		c.DeadMan.Interval = defaultDeadManInterval
	}
	if c.DeadMan.Timeout == 0 {
		c.DeadMan.Timeout = defaultDeadManTimeout
	}
	if c.Watchdog.Interval == 0 {
		c.Watchdog.Interval = defaultWatchdogEvery
	}
	if c.Watchdog.DegradedAfter == 0 {
		c.Watchdog.DegradedAfter = defaultDegradedAfter
	}
	return c
}

// Validate reports the first invalid field, named by its path in the
// shared YAML file (e.g. "listeners.crashpager.spree_window: ..."). Call it
// on a Config with defaults applied.
func (c Crashpager) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("listeners.crashpager.%w", err)
	}
	return nil
}

func (c Crashpager) validate() error {
	if _, err := procmatch.New(c.Include, c.Exclude); err != nil {
		return err
	}
	if err := procmatch.CheckAll("listeners", c.Listeners); err != nil {
		return err
	}
	switch {
	case c.SpreeThreshold < 1:
		return fmt.Errorf("spree_threshold: %d: want at least 1", c.SpreeThreshold)
	case c.SpreeWindow < time.Second:
		return fmt.Errorf("spree_window: %s: want at least 1s", c.SpreeWindow)
	case c.StableFor < 0:
		return fmt.Errorf("stable_for: %s: must not be negative", c.StableFor)
	case c.TailBytes < -1 || c.TailBytes > maxTailBytes:
		return fmt.Errorf("tail_bytes: %d: want -1 (off) or up to %d", c.TailBytes, maxTailBytes)
	case c.TailTimeout < 0 || c.TailTimeout > 5*time.Second:
		return fmt.Errorf("tail_timeout: %s: want at most 5s (it delays the ack)", c.TailTimeout)
	case c.HeartbeatPeriod < time.Second:
		return fmt.Errorf("heartbeat_period: %s: want at least 1s", c.HeartbeatPeriod)
	case c.LatePeriods < 1:
		return fmt.Errorf("late_periods: %d: want at least 1", c.LatePeriods)
	}
	if c.Runbook != "" {
		if _, err := url.ParseRequestURI(c.Runbook); err != nil {
			return fmt.Errorf("runbook: not a URL: %q", c.Runbook)
		}
	}
	if err := c.DeadMan.validate(); err != nil {
		return fmt.Errorf("deadman.%w", err)
	}
	if c.Watchdog.Interval < time.Second {
		return fmt.Errorf("watchdog.interval: %s: want at least 1s", c.Watchdog.Interval)
	}
	if c.Watchdog.DegradedAfter < time.Second {
		return fmt.Errorf("watchdog.degraded_after: %s: want at least 1s", c.Watchdog.DegradedAfter)
	}
	return nil
}

func (d DeadMan) validate() error {
	switch {
	case d.URLEnv != "" && d.URLFile != "":
		return errors.New("url_env: set url_env or url_file, not both")
	case d.Method != "GET" && d.Method != "POST":
		return fmt.Errorf("method: %q: want GET or POST", d.Method)
	case d.Interval < time.Second:
		return fmt.Errorf("interval: %s: want at least 1s", d.Interval)
	case d.Timeout <= 0 || d.Timeout > d.Interval:
		return fmt.Errorf("timeout: %s: want more than 0 and at most the interval", d.Timeout)
	}
	return nil
}

// Resolve reads the dead-man URL from its environment variable or file
// into URL. Errors name the variable or file, never the URL.
func (d *DeadMan) Resolve(getenv func(string) string) error {
	var raw, field string
	switch {
	case d.URLEnv != "":
		field = "url_env"
		raw = getenv(d.URLEnv)
		if raw == "" {
			return fmt.Errorf("url_env: variable %s is not set", d.URLEnv)
		}
	case d.URLFile != "":
		field = "url_file"
		b, err := os.ReadFile(d.URLFile)
		if err != nil {
			return fmt.Errorf("url_file: %w", err)
		}
		raw = strings.TrimSpace(string(b))
		if raw == "" {
			return fmt.Errorf("url_file: %s is empty", d.URLFile)
		}
	default:
		return nil
	}
	if !httpurl.Valid(raw) {
		return fmt.Errorf("%s: not an http(s) URL (value not shown: it may hold a token)", field)
	}
	d.URL = raw
	return nil
}

// Enabled reports whether a dead-man URL is configured and resolved.
func (d DeadMan) Enabled() bool { return d.URL != "" }
