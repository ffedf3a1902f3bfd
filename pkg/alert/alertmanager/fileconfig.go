package alertmanager

import (
	"errors"
	"fmt"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
)

// FileConfig is an alertmanager sink's own fields in the shared config
// file: every replica of the cluster, optional basic auth.
//
//	sinks:
//	  - {name: am, type: alertmanager, urls: ["http://am-1:9093", "http://am-2:9093"]}
type FileConfig struct {
	URLs           []string        `yaml:"urls,omitempty"`
	Username       string          `yaml:"username,omitempty"`
	PasswordEnv    string          `yaml:"password_env,omitempty"`
	PasswordFile   string          `yaml:"password_file,omitempty"`
	GeneratorURL   string          `yaml:"generator_url,omitempty"`
	ResolveTimeout config.Duration `yaml:"resolve_timeout,omitempty"`
	Refresh        config.Duration `yaml:"refresh,omitempty"` // re-post interval of a firing alert; default 1m
}

func (c *FileConfig) password() config.SecretRef {
	return config.SecretRef{Field: "password", Env: c.PasswordEnv, File: c.PasswordFile}
}

// Validate checks the fields without reading a secret. Errors are
// config.FieldErrors relative to the sink entry.
func (c *FileConfig) Validate() error {
	var errs []error
	if len(c.URLs) == 0 {
		errs = append(errs, config.FieldErrorf("urls", "at least one Alertmanager URL is required"))
	}
	for i, u := range c.URLs {
		errs = append(errs, config.CheckURL(fmt.Sprintf("urls[%d]", i), u))
	}
	errs = append(errs, c.password().Validate())
	if c.password().IsSet() && c.Username == "" {
		errs = append(errs, config.FieldErrorf("username", "required with a password"))
	}
	if c.GeneratorURL != "" {
		errs = append(errs, config.CheckURL("generator_url", c.GeneratorURL))
	}
	if c.ResolveTimeout < 0 {
		errs = append(errs, config.FieldErrorf("resolve_timeout", "must not be negative"))
	}
	if c.Refresh < 0 {
		errs = append(errs, config.FieldErrorf("refresh", "must not be negative"))
	}
	return errors.Join(errs...)
}

// Build resolves the password and returns the Notifier.
func (c *FileConfig) Build(env config.SinkEnv) (alert.Notifier, error) {
	pass, err := env.Resolve(c.password())
	if err != nil {
		return nil, err
	}
	return New(Config{URLs: c.URLs, Timeout: env.Timeout, GeneratorURL: c.GeneratorURL, Username: c.Username,
		Password: pass.Value(), ResolveTimeout: c.ResolveTimeout.Std(), Refresh: c.Refresh.Std()})
}
