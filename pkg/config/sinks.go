package config

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"time"
)

// Sink types.
const (
	SinkSlack        = "slack"
	SinkPagerDuty    = "pagerduty"
	SinkAlertmanager = "alertmanager"
	SinkLog          = "log"
)

// DefaultSinkTimeout bounds one delivery attempt when a sink sets no timeout.
const DefaultSinkTimeout = 10 * time.Second

// defaultRates are deliveries per second by sink type (0: no limit): Slack
// allows about one message a second per channel, PagerDuty about 120 events
// a minute per routing key.
var defaultRates = map[string]float64{SinkSlack: 1, SinkPagerDuty: 2, SinkAlertmanager: 10, SinkLog: 0}

// Sink is one named alert destination. Which fields apply depends on Type.
// Secrets are named by a *_env or *_file field and resolved at load into
// the Secret fields; writing one inline (webhook_url, token, routing_key,
// password) is an error.
type Sink struct {
	Name    string   `yaml:"name"`
	Type    string   `yaml:"type"`              // slack, pagerduty, alertmanager or log
	Rate    *float64 `yaml:"rate,omitempty"`    // deliveries per second; 0 means no limit; default by type
	Timeout Duration `yaml:"timeout,omitempty"` // per delivery attempt; default 10s

	// slack: exactly one of a webhook or a bot token with a channel.
	WebhookURLEnv  string `yaml:"webhook_url_env,omitempty"`
	WebhookURLFile string `yaml:"webhook_url_file,omitempty"`
	TokenEnv       string `yaml:"token_env,omitempty"`
	TokenFile      string `yaml:"token_file,omitempty"`
	Channel        string `yaml:"channel,omitempty"`
	APIURL         string `yaml:"api_url,omitempty"` // Slack Web API base; default https://slack.com/api/

	// pagerduty
	RoutingKeyEnv  string `yaml:"routing_key_env,omitempty"`
	RoutingKeyFile string `yaml:"routing_key_file,omitempty"`
	EventsURL      string `yaml:"events_url,omitempty"` // default https://events.pagerduty.com

	// alertmanager: every replica of the cluster, optional basic auth.
	URLs           []string `yaml:"urls,omitempty"`
	Username       string   `yaml:"username,omitempty"`
	PasswordEnv    string   `yaml:"password_env,omitempty"`
	PasswordFile   string   `yaml:"password_file,omitempty"`
	GeneratorURL   string   `yaml:"generator_url,omitempty"`
	ResolveTimeout Duration `yaml:"resolve_timeout,omitempty"`
	Refresh        Duration `yaml:"refresh,omitempty"` // re-post interval of a firing alert; default 1m

	// Resolved secrets (never read from YAML).
	WebhookURL Secret `yaml:"-"`
	Token      Secret `yaml:"-"`
	RoutingKey Secret `yaml:"-"`
	Password   Secret `yaml:"-"`
}

// RateLimit returns the sink's deliveries per second (0: no limit).
func (s *Sink) RateLimit() float64 {
	if s.Rate != nil {
		return *s.Rate
	}
	return defaultRates[s.Type]
}

// AttemptTimeout returns the per-attempt deadline.
func (s *Sink) AttemptTimeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout.Std()
	}
	return DefaultSinkTimeout
}

func (s *Sink) secrets() []Secret { return []Secret{s.WebhookURL, s.Token, s.RoutingKey, s.Password} }

var sinkName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// validate checks the sink at path ("sinks[1]") and resolves its secrets.
func (s *Sink) validate(path string, readSecrets bool) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !sinkName.MatchString(s.Name) {
		add(fieldErr(path+".name", "%q: want letters, digits, '.', '_' or '-'", s.Name))
	}
	if s.Rate != nil && *s.Rate < 0 {
		add(fieldErr(path+".rate", "must not be negative (0 means no limit)"))
	}
	if s.Timeout < 0 {
		add(fieldErr(path+".timeout", "must not be negative"))
	}
	// Fields that belong to other types are mistakes worth naming.
	used := map[string]bool{}
	set := map[string]bool{
		"webhook_url_env": s.WebhookURLEnv != "", "webhook_url_file": s.WebhookURLFile != "",
		"token_env": s.TokenEnv != "", "token_file": s.TokenFile != "", "channel": s.Channel != "",
		"api_url": s.APIURL != "", "routing_key_env": s.RoutingKeyEnv != "",
		"routing_key_file": s.RoutingKeyFile != "", "events_url": s.EventsURL != "", "urls": len(s.URLs) > 0,
		"username": s.Username != "", "password_env": s.PasswordEnv != "", "password_file": s.PasswordFile != "",
		"generator_url": s.GeneratorURL != "", "resolve_timeout": s.ResolveTimeout != 0, "refresh": s.Refresh != 0,
	}
	resolve := func(ref secretRef) Secret {
		used[ref.field+"_env"], used[ref.field+"_file"] = true, true
		ref.shapeOnly = !readSecrets
		v, err := ref.resolve(path)
		add(err)
		return v
	}
	checkURL := func(field, raw string) {
		used[field] = true
		if raw != "" {
			add(validURL(path+"."+field, raw))
		}
	}
	switch s.Type {
	case SinkSlack:
		s.WebhookURL = resolve(secretRef{field: "webhook_url", env: s.WebhookURLEnv, file: s.WebhookURLFile})
		s.Token = resolve(secretRef{field: "token", env: s.TokenEnv, file: s.TokenFile})
		used["channel"] = true
		checkURL("api_url", s.APIURL)
		hook := s.WebhookURLEnv != "" || s.WebhookURLFile != ""
		bot := s.TokenEnv != "" || s.TokenFile != ""
		switch {
		case hook && bot:
			add(fieldErr(path, "set either webhook_url_env/_file or token_env/_file, not both"))
		case !hook && !bot:
			add(fieldErr(path, "a slack sink needs webhook_url_env/_file, or token_env/_file with channel"))
		case bot && s.Channel == "":
			add(fieldErr(path+".channel", "required with a bot token"))
		case hook && s.Channel != "":
			add(fieldErr(path+".channel", "a webhook posts to its own channel; remove channel"))
		}
		if s.WebhookURL.IsSet() {
			if u, err := url.Parse(s.WebhookURL.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				add(fieldErr(path+".webhook_url", "the resolved value is not an http(s) URL"))
			}
		}
	case SinkPagerDuty:
		s.RoutingKey = resolve(secretRef{field: "routing_key", env: s.RoutingKeyEnv, file: s.RoutingKeyFile, required: true})
		checkURL("events_url", s.EventsURL)
	case SinkAlertmanager:
		used["urls"], used["username"], used["resolve_timeout"], used["refresh"] = true, true, true, true
		if len(s.URLs) == 0 {
			add(fieldErr(path+".urls", "at least one Alertmanager URL is required"))
		}
		for i, u := range s.URLs {
			add(validURL(fmt.Sprintf("%s.urls[%d]", path, i), u))
		}
		s.Password = resolve(secretRef{field: "password", env: s.PasswordEnv, file: s.PasswordFile})
		if s.Password.IsSet() && s.Username == "" {
			add(fieldErr(path+".username", "required with a password"))
		}
		checkURL("generator_url", s.GeneratorURL)
		if s.ResolveTimeout < 0 {
			add(fieldErr(path+".resolve_timeout", "must not be negative"))
		}
		if s.Refresh < 0 {
			add(fieldErr(path+".refresh", "must not be negative"))
		}
	case SinkLog:
	case "":
		add(fieldErr(path+".type", "required: slack, pagerduty, alertmanager or log"))
	default:
		add(fieldErr(path+".type", "%q: want slack, pagerduty, alertmanager or log", s.Type))
	}
	if s.Type != "" && defaultRatesHas(s.Type) {
		for _, f := range slices.Sorted(maps.Keys(set)) {
			if set[f] && !used[f] {
				add(fieldErr(path+"."+f, "not used by a %s sink", s.Type))
			}
		}
	}
	return errs
}

func defaultRatesHas(typ string) bool { _, ok := defaultRates[typ]; return ok }

// validURL accepts an absolute http(s) URL without credentials in it.
func validURL(field, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return fieldErr(field, "want an absolute http or https URL")
	case u.User != nil:
		return fieldErr(field, "credentials must not be written in the URL; use username with password_env or password_file")
	}
	return nil
}
