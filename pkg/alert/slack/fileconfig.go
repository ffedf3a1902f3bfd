package slack

import (
	"errors"

	"github.com/superguard/superguard/internal/httpurl"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
)

// FileConfig is a slack sink's own fields in the shared config file:
// exactly one of a webhook or a bot token with a channel.
//
//	sinks:
//	  - {name: ops, type: slack, token_env: SLACK_BOT_TOKEN, channel: "#trading-ops"}
//	  - {name: hook, type: slack, webhook_url_file: /etc/superguard/slack.hook}
type FileConfig struct {
	WebhookURLEnv  string `yaml:"webhook_url_env,omitempty"`
	WebhookURLFile string `yaml:"webhook_url_file,omitempty"`
	TokenEnv       string `yaml:"token_env,omitempty"`
	TokenFile      string `yaml:"token_file,omitempty"`
	Channel        string `yaml:"channel,omitempty"`
	APIURL         string `yaml:"api_url,omitempty"` // Slack Web API base; default https://slack.com/api/
}

func (c *FileConfig) webhook() config.SecretRef {
	return config.SecretRef{Field: "webhook_url", Env: c.WebhookURLEnv, File: c.WebhookURLFile}
}

func (c *FileConfig) token() config.SecretRef {
	return config.SecretRef{Field: "token", Env: c.TokenEnv, File: c.TokenFile}
}

// Validate checks the fields without reading a secret. Errors are
// config.FieldErrors relative to the sink entry.
func (c *FileConfig) Validate() error {
	errs := []error{c.webhook().Validate(), c.token().Validate()}
	if c.APIURL != "" {
		errs = append(errs, config.CheckURL("api_url", c.APIURL))
	}
	hook, bot := c.webhook().IsSet(), c.token().IsSet()
	switch {
	case hook && bot:
		errs = append(errs, config.FieldErrorf("", "set either webhook_url_env/_file or token_env/_file, not both"))
	case !hook && !bot:
		errs = append(errs, config.FieldErrorf("", "a slack sink needs webhook_url_env/_file, or token_env/_file with channel"))
	case bot && c.Channel == "":
		errs = append(errs, config.FieldErrorf("channel", "required with a bot token"))
	case hook && c.Channel != "":
		errs = append(errs, config.FieldErrorf("channel", "a webhook posts to its own channel; remove channel"))
	}
	return errors.Join(errs...)
}

// Build resolves the webhook URL or token and returns the Notifier.
func (c *FileConfig) Build(env config.SinkEnv) (alert.Notifier, error) {
	hook, err1 := env.Resolve(c.webhook())
	token, err2 := env.Resolve(c.token())
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if hook.IsSet() && !httpurl.Valid(hook.Value()) {
		return nil, config.FieldErrorf("webhook_url", "the resolved value is not an http(s) URL")
	}
	return New(Config{WebhookURL: hook.Value(), Token: token.Value(), Channel: c.Channel, APIURL: c.APIURL, Timeout: env.Timeout})
}
