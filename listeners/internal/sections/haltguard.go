package sections

import (
	"errors"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/halt"
)

// Haltguard is the `listeners: haltguard:` section of the shared YAML
// config:
//
//	listeners:
//	  haltguard:
//	    critical: [risk_manager]          # programs whose failure halts trading
//	    targets: [trading]                # groups or programs a halt stops
//	    startup_grace: 60s                # how long after supervisord starts a critical program may take to be RUNNING
//	    verify_timeout: 0s                # 0: the targets' largest stopwaitsecs + 2s, then SIGKILL
//	    flatten:
//	      command: [/opt/trading/bin/flatten-all]
//	      timeout: 30s
//	    runbook: https://wiki.example.com/kill-switch
//	    stop_mode: multicall              # or concurrent
//
// critical and targets are procmatch patterns.
type Haltguard struct {
	Critical config.Patterns `yaml:"critical"`
	Targets  config.Patterns `yaml:"targets"`
	// StartupGrace is how long after supervisord's start a critical
	// program that has not been RUNNING yet may take to come up before
	// its absence halts (default 60s). A critical program that leaves
	// RUNNING halts at once, whatever the reason.
	StartupGrace config.Duration `yaml:"startup_grace"`
	// LatchFile is the halt latch file the gate reads (default halt.latch
	// next to the state store); LatchMirror an optional copy on another
	// file system (e.g. /run/superguard/halt.latch), which still records a
	// halt when the state store's file system is read-only.
	LatchFile   string `yaml:"latch_file"`
	LatchMirror string `yaml:"latch_mirror"`
	// RemoteResume lets a superguard.resume REMOTE_COMMUNICATION event
	// resume trading (default off: anything that can reach supervisord's
	// API could then undo a halt; a halt by remote event is always on).
	RemoteResume bool `yaml:"remote_resume"`
	// TriggerOnExited is accepted for the configs written before a
	// critical program's every exit halted, and ignored.
	TriggerOnExited *bool           `yaml:"trigger_on_exited"`
	VerifyTimeout   config.Duration `yaml:"verify_timeout"`
	Flatten         struct {
		Command []string        `yaml:"command"`
		Timeout config.Duration `yaml:"timeout"`
		// PassEnv names variables of haltguard's environment the command
		// gets (it has PATH, HOME, LANG, TZ and SUPERGUARD_HALT_* only).
		PassEnv []string `yaml:"pass_env"`
	} `yaml:"flatten"`
	Runbook  string `yaml:"runbook"`
	StopMode string `yaml:"stop_mode"`
}

// Validate checks the section; errors name the field by its path in the
// file ("listeners.haltguard.targets: ...").
func (s *Haltguard) Validate() error {
	_, err := s.HaltConfig("")
	return err
}

// HaltConfig turns the section into the kill-switch engine's Config,
// validated. self is the kill switch's own "group:name" under supervisord
// ("" outside it).
func (s *Haltguard) HaltConfig(self string) (halt.Config, error) {
	c := halt.Config{
		Critical:      s.Critical,
		Targets:       s.Targets,
		VerifyTimeout: s.VerifyTimeout.Std(),
		Flatten:       halt.FlattenConfig{Command: s.Flatten.Command, Timeout: s.Flatten.Timeout.Std()},
		StopMode:      halt.StopMode(s.StopMode),
		Self:          self,
	}
	err := c.Validate()
	if s.StartupGrace < 0 {
		err = errors.Join(err, errors.New("startup_grace: must not be negative"))
	}
	if err != nil {
		return halt.Config{}, PrefixLines("listeners.haltguard.", err)
	}
	return c, nil
}

// LatchPaths are the latch files: LatchFile (default halt.latch in the
// directory of statePath, the state store) then LatchMirror if set.
func (s *Haltguard) LatchPaths(statePath string) []string {
	return config.HaltLatchPaths(statePath, s.LatchFile, s.LatchMirror)
}

// KillSwitch reads haltguard's section from the shared file for a listener
// that must do nothing while trading is halted (healthprobe, memguard): the
// latch to consult (a latch that cannot be read counts as set) and the
// patterns of the programs a halt stops. No haltguard section: a nil latch
// and no targets, there is no kill switch to obey.
func KillSwitch(f *config.Config, statePath string) (halt.Latch, config.Patterns, error) {
	if _, ok := f.Listeners["haltguard"]; !ok {
		return nil, nil, nil
	}
	var hs Haltguard
	if err := f.Listener("haltguard", &hs); err != nil {
		return nil, nil, err
	}
	return &halt.FileLatch{Paths: hs.LatchPaths(statePath)}, hs.Targets, nil
}

// DefaultStartupGrace is StartupGrace's default.
const DefaultStartupGrace = time.Minute

// Grace is StartupGrace with its default.
func (s *Haltguard) Grace() time.Duration {
	if s.StartupGrace == 0 {
		return DefaultStartupGrace
	}
	return s.StartupGrace.Std()
}

// Warnings are deprecations in the section, one line each.
func (s *Haltguard) Warnings() []string {
	if s.TriggerOnExited != nil {
		return []string{"listeners.haltguard.trigger_on_exited is ignored: a critical program that leaves RUNNING for any reason (an exit, FATAL, a stop) halts; remove it"}
	}
	return nil
}

// PrefixLines prefixes every line of err's message (errors.Join puts one
// problem per line), e.g. with the path of the config section.
func PrefixLines(prefix string, err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return errors.New(strings.Join(lines, "\n"))
}
