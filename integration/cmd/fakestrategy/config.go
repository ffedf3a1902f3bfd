package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/superguard/superguard/integration/cmd/internal/helperprog"
	"github.com/superguard/superguard/pkg/config"
)

// EnvPrefix prefixes the environment variable that can set each flag: flag
// -health-addr is also read from FAKESTRATEGY_HEALTH_ADDR. Flags given on the
// command line win over the environment.
const EnvPrefix = "FAKESTRATEGY_"

// Config is what the fake strategy does. The zero value runs quietly forever.
type Config struct {
	Name string // shown in heartbeats and logs; default $SUPERVISOR_PROCESS_NAME, else "fakestrategy"

	HealthAddr     string // serve GET /health here ("127.0.0.1:0" picks a port); "" = no server
	HealthAddrFile string // the address actually bound is written here (atomically) once listening
	HealthStatus   int    // status code of /health
	HealthBody     string // body of /health
	HealthFile     string // if this file exists, its first line "<status> [body]" overrides status and body, re-read per request

	ExitAfter time.Duration // exit after this long (0 = never)
	ExitCode  int           // with this code

	HangAfter     time.Duration // stop responding after this long: /health blocks, heartbeats and logs stop (0 = never; SIGUSR2 hangs at once)
	IgnoreSIGTERM bool          // keep running on SIGTERM (supervisord must SIGKILL it)
	StopDelay     time.Duration // on SIGTERM, wait this long before exiting

	GrowRate     int64 // resident memory to add per second, in bytes (0 = none)
	GrowLimit    int64 // stop growing at this many bytes (0 = no limit)
	GrowOnSignal bool  // with GrowRate: grow only once SIGTTOU arrives (a leak that starts on cue)

	Children       int   // at start, spawn this many children: this binary re-run as -name <Name>-child-<i> (0 = none)
	ChildGrowRate  int64 // each child's -grow-rate, in bytes per second
	ChildGrowLimit int64 // each child's -grow-limit, in bytes

	Spin    bool          // keep one goroutine busy: one core at ~100% CPU
	SpinFor time.Duration // with Spin: stop spinning after this long (0 = never)

	NoFile  int // at start, set the soft RLIMIT_NOFILE to this (0 = leave it)
	OpenFDs int // at start, open this many extra descriptors (of /dev/null) and hold them (0 = none)

	Heartbeat     time.Duration // emit a PROCESS_COMMUNICATION heartbeat on stdout at this interval (0 = none)
	HeartbeatData string        // heartbeat body; "" = a JSON object with name, seq and time
	FreezeAfter   time.Duration // %NOW% in the /health body stops advancing after this long (a frozen feed; 0 = never)
	Notify        time.Duration // sd_notify WATCHDOG=1 to $NOTIFY_SOCKET at this interval, READY=1 first (0 = none)
	ReadyAfter    time.Duration // with -notify: send READY=1 after this long (0 = at once)

	LogText       string        // log line text ("" = no log lines)
	LogEvery      time.Duration // print LogText at this interval (0 = once at start)
	LogStream     string        // "stdout", "stderr" or "both"
	LogInvalidUTF bool          // append bytes that are not valid UTF-8 to each log line
}

// InvalidUTF8 is what -log-invalid-utf8 appends to each log line: a lone
// continuation byte, an impossible byte and a truncated 3-byte sequence.
const InvalidUTF8 = "\x80\xff\xe2\x82"

// parseConfig reads flags from args, falling back to FAKESTRATEGY_* variables
// from getenv for every flag not given on the command line.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var (
		cfg                           Config
		growRate, growLimit           string
		childGrowRate, childGrowLimit string
		fs                            = helperprog.NewFlagSet("fakestrategy", stderr)
	)
	fs.StringVar(&cfg.Name, "name", "", "name in heartbeats and logs (default $SUPERVISOR_PROCESS_NAME, else fakestrategy)")
	fs.StringVar(&cfg.HealthAddr, "health-addr", "", "serve GET /health on this address (127.0.0.1:0 picks a port)")
	fs.StringVar(&cfg.HealthAddrFile, "health-addr-file", "", "write the bound /health address to this file")
	fs.IntVar(&cfg.HealthStatus, "health-status", 200, "HTTP status of /health")
	fs.StringVar(&cfg.HealthBody, "health-body", "ok", "body of /health")
	fs.StringVar(&cfg.HealthFile, "health-file", "", `file whose first line "<status> [body]" overrides -health-status/-health-body while it exists`)
	fs.DurationVar(&cfg.ExitAfter, "exit-after", 0, "exit after this long (0 = never)")
	fs.IntVar(&cfg.ExitCode, "exit-code", 0, "exit code for -exit-after")
	fs.DurationVar(&cfg.HangAfter, "hang-after", 0, "stop responding after this long (0 = never; SIGUSR2 hangs at once)")
	fs.BoolVar(&cfg.IgnoreSIGTERM, "ignore-sigterm", false, "keep running on SIGTERM")
	fs.DurationVar(&cfg.StopDelay, "stop-delay", 0, "on SIGTERM, wait this long before exiting")
	fs.StringVar(&growRate, "grow-rate", "0", "resident memory to add per second (e.g. 4MiB, 500kB, 1048576)")
	fs.StringVar(&growLimit, "grow-limit", "0", "stop growing memory at this size (0 = no limit)")
	fs.BoolVar(&cfg.GrowOnSignal, "grow-on-signal", false, "with -grow-rate: start growing only when SIGTTOU arrives")
	fs.IntVar(&cfg.Children, "children", 0, "at start, spawn this many child processes (this binary, -name <name>-child-<i>), killed when this process ends")
	fs.StringVar(&childGrowRate, "child-grow-rate", "0", "with -children: each child's -grow-rate")
	fs.StringVar(&childGrowLimit, "child-grow-limit", "0", "with -children: each child's -grow-limit")
	fs.BoolVar(&cfg.Spin, "spin", false, "keep one goroutine in a busy loop (one core at ~100% CPU), hung or not")
	fs.DurationVar(&cfg.SpinFor, "spin-for", 0, "with -spin: stop spinning after this long (0 = never)")
	fs.IntVar(&cfg.NoFile, "nofile", 0, "at start, set the soft RLIMIT_NOFILE to this, at most the hard limit (0 = leave it)")
	fs.IntVar(&cfg.OpenFDs, "open-fds", 0, "at start, open this many extra file descriptors and keep them open (as many as the limit allows)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 0, "PROCESS_COMMUNICATION heartbeat interval on stdout (0 = none)")
	fs.StringVar(&cfg.HeartbeatData, "heartbeat-data", "", "heartbeat body (default: JSON with name, seq, time)")
	fs.DurationVar(&cfg.FreezeAfter, "freeze-after", 0, "%NOW% and %NOW_MS% in the /health body (the data's timestamp) stop advancing after this long: a frozen feed (0 = never; SIGTTIN freezes at once)")
	fs.DurationVar(&cfg.Notify, "notify", 0, "sd_notify: READY=1 then WATCHDOG=1 at this interval to $NOTIFY_SOCKET while not hung (0 = none)")
	fs.DurationVar(&cfg.ReadyAfter, "ready-after", 0, "with -notify: wait this long before READY=1")
	fs.StringVar(&cfg.LogText, "log-text", "", "log line to print (non-ASCII welcome)")
	fs.DurationVar(&cfg.LogEvery, "log-every", 0, "print -log-text at this interval (0 = once at start)")
	fs.StringVar(&cfg.LogStream, "log-stream", "stdout", "where log lines go: stdout, stderr or both")
	fs.BoolVar(&cfg.LogInvalidUTF, "log-invalid-utf8", false, "append bytes that are not valid UTF-8 to each log line")

	if err := helperprog.Parse(fs, args); err != nil {
		return Config{}, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}

	var err error
	if cfg.GrowRate, err = parseSize(growRate); err != nil {
		return Config{}, fmt.Errorf("grow-rate: %w", err)
	}
	if cfg.GrowLimit, err = parseSize(growLimit); err != nil {
		return Config{}, fmt.Errorf("grow-limit: %w", err)
	}
	if cfg.ChildGrowRate, err = parseSize(childGrowRate); err != nil {
		return Config{}, fmt.Errorf("child-grow-rate: %w", err)
	}
	if cfg.ChildGrowLimit, err = parseSize(childGrowLimit); err != nil {
		return Config{}, fmt.Errorf("child-grow-limit: %w", err)
	}
	if cfg.Name == "" {
		cfg.Name = getenv("SUPERVISOR_PROCESS_NAME")
	}
	if cfg.Name == "" {
		cfg.Name = "fakestrategy"
	}
	return cfg, cfg.Validate()
}

// Validate reports settings that cannot work together.
func (c Config) Validate() error {
	for _, f := range []struct {
		name  string
		value any
		neg   bool
	}{
		{"spin-for", c.SpinFor, c.SpinFor < 0}, {"children", c.Children, c.Children < 0},
		{"child-grow-rate", c.ChildGrowRate, c.ChildGrowRate < 0}, {"child-grow-limit", c.ChildGrowLimit, c.ChildGrowLimit < 0},
		{"nofile", c.NoFile, c.NoFile < 0}, {"open-fds", c.OpenFDs, c.OpenFDs < 0},
	} {
		if f.neg {
			return fmt.Errorf("%s %v: must not be negative", f.name, f.value)
		}
	}
	switch {
	case c.HealthStatus < 100 || c.HealthStatus > 999:
		return fmt.Errorf("health-status %d: want an HTTP status code", c.HealthStatus)
	case c.ExitAfter < 0, c.HangAfter < 0, c.StopDelay < 0, c.Heartbeat < 0, c.LogEvery < 0, c.FreezeAfter < 0, c.Notify < 0, c.ReadyAfter < 0:
		return errors.New("durations must not be negative")
	case c.GrowOnSignal && c.GrowRate == 0:
		return errors.New("grow-on-signal needs grow-rate")
	case c.SpinFor > 0 && !c.Spin:
		return errors.New("spin-for needs spin")
	case (c.ChildGrowRate > 0 || c.ChildGrowLimit > 0) && c.Children == 0:
		return errors.New("child-grow-rate and child-grow-limit need children")
	case c.ExitCode < 0 || c.ExitCode > 255:
		return fmt.Errorf("exit-code %d: want 0..255", c.ExitCode)
	case c.HealthAddrFile != "" && c.HealthAddr == "":
		return errors.New("health-addr-file needs health-addr")
	case c.LogStream != "stdout" && c.LogStream != "stderr" && c.LogStream != "both":
		return fmt.Errorf("log-stream %q: want stdout, stderr or both", c.LogStream)
	case c.LogEvery > 0 && c.LogText == "":
		return errors.New("log-every needs log-text")
	}
	return nil
}

// parseSize parses a byte size as superguard's config does
// (config.ParseSize: a plain number of bytes, or KiB, MiB, GiB binary and
// KB, MB, GB decimal).
func parseSize(s string) (int64, error) {
	v, err := config.ParseSize(s)
	return int64(v), err
}
