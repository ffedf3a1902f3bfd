package sections

import (
	"errors"
	"strings"

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
//	    trigger_on_exited: true           # halt on the first unexpected EXITED, not only FATAL
//	    verify_timeout: 0s                # 0: the targets' largest stopwaitsecs + 2s, then SIGKILL
//	    flatten:
//	      command: [/opt/trading/bin/flatten-all]
//	      timeout: 30s
//	    runbook: https://wiki.example.com/kill-switch
//	    stop_mode: multicall              # or concurrent
//
// critical and targets are procmatch patterns.
type Haltguard struct {
	Critical        config.Patterns `yaml:"critical"`
	Targets         config.Patterns `yaml:"targets"`
	TriggerOnExited bool            `yaml:"trigger_on_exited"`
	VerifyTimeout   config.Duration `yaml:"verify_timeout"`
	Flatten         struct {
		Command []string        `yaml:"command"`
		Timeout config.Duration `yaml:"timeout"`
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
		Critical:        s.Critical,
		Targets:         s.Targets,
		TriggerOnExited: s.TriggerOnExited,
		VerifyTimeout:   s.VerifyTimeout.Std(),
		Flatten:         halt.FlattenConfig{Command: s.Flatten.Command, Timeout: s.Flatten.Timeout.Std()},
		StopMode:        halt.StopMode(s.StopMode),
		Self:            self,
	}
	if err := c.Validate(); err != nil {
		return halt.Config{}, PrefixLines("listeners.haltguard.", err)
	}
	return c, nil
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
