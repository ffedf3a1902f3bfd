// Package slack delivers superguard notifications to Slack, through an
// incoming webhook or through the Web API with a bot token.
//
// With a webhook every notification is a new message (webhooks return no
// message ts). With a bot token and a channel, a trigger posts a message and
// returns its "channel/ts" as the Receipt's Ref; a later notification of the
// same incident carrying that Ref (an update, a reminder or the resolve)
// rewrites the original message with chat.update (a resolve marks it
// RESOLVED) and replies in its thread. If the original message is gone, the
// follow-up is posted as a new message instead.
//
// Messages use Block Kit (a header with a severity emoji and the summary;
// host, process, condition, count and action fields; the details; the stderr
// tail in a code block; a runbook button) with a plain-text fallback, all cut
// to Slack's limits.
//
// Notify makes exactly one attempt, bounded by ctx and Config.Timeout, and
// classifies failures: 429 (with Slack's Retry-After when given), 408, 5xx,
// timeouts, connection errors and the ratelimited / internal_error /
// fatal_error / service_unavailable / request_timeout answers are
// retryable; other 4xx and ok:false answers are permanent. No error carries
// the webhook URL or the token.
package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/superguard/superguard/internal/httpurl"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/internal/sinkhttp"
)

// DefaultAPIURL is the Slack Web API base URL.
const DefaultAPIURL = "https://slack.com/api/"

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config selects and configures the Slack destination. Set exactly one of
// WebhookURL or Token with Channel.
type Config struct {
	WebhookURL string        // incoming webhook URL (a secret)
	Token      string        // bot token, xoxb-... (a secret)
	Channel    string        // channel name or ID for the bot token
	APIURL     string        // Web API base; default DefaultAPIURL (tests point it at a fake)
	Timeout    time.Duration // per attempt; default DefaultTimeout
	HTTPClient *http.Client  // optional; default a client with dial, TLS and header timeouts
}

// Validate reports the first invalid field. Its errors never contain the
// webhook URL or the token.
func (c Config) Validate() error {
	hasWebhook, hasToken := c.WebhookURL != "", c.Token != "" || c.Channel != ""
	switch {
	case hasWebhook == hasToken:
		return errors.New("slack: set exactly one of webhook URL or token with channel")
	case hasToken && c.Token == "":
		return errors.New("slack: channel set without a token")
	case hasToken && c.Channel == "":
		return errors.New("slack: token set without a channel")
	case c.Timeout < 0:
		return fmt.Errorf("slack: timeout %s: must not be negative", c.Timeout)
	}
	if hasWebhook && !httpurl.Valid(c.WebhookURL) {
		// The URL is the secret: name the problem, never the value.
		return errors.New("slack: webhook URL: not an absolute http(s) URL")
	}
	if c.APIURL != "" && !httpurl.Valid(c.APIURL) {
		return fmt.Errorf("slack: API URL %q: not an absolute http(s) URL", c.APIURL)
	}
	return nil
}

// Notifier delivers notifications to one Slack webhook or channel. It is
// safe for concurrent use.
type Notifier struct {
	webhook string
	channel string
	api     *slack.Client
	client  *http.Client
	timeout time.Duration
	secrets []string
}

var _ alert.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{webhook: cfg.WebhookURL, channel: cfg.Channel, timeout: cfg.Timeout, client: cfg.HTTPClient}
	if n.timeout == 0 {
		n.timeout = DefaultTimeout
	}
	if n.client == nil {
		n.client = sinkhttp.NewClient(n.timeout)
	}
	if cfg.WebhookURL != "" {
		n.secrets = webhookSecrets(cfg.WebhookURL)
		return n, nil
	}
	n.secrets = []string{cfg.Token}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	n.api = slack.New(cfg.Token, slack.OptionAPIURL(apiURL), slack.OptionHTTPClient(n.client))
	return n, nil
}

// webhookSecrets lists every form in which the webhook's secret may show up
// in an error: the URL as configured and as Go prints it, and its path.
func webhookSecrets(raw string) []string {
	secrets := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return secrets
	}
	secrets = append(secrets, u.String(), u.Redacted())
	// A short path ("/") is no secret and redacting it would garble messages.
	for _, p := range []string{u.EscapedPath(), u.Path, u.RawQuery} {
		if len(p) > 8 {
			secrets = append(secrets, p)
		}
	}
	return secrets
}

// Notify delivers n: one attempt, bounded by ctx and the configured timeout.
// With a bot token the Receipt's Ref is "channel/ts" of the incident's
// message.
func (s *Notifier) Notify(ctx context.Context, n *alert.Notification) (alert.Receipt, error) {
	if n == nil {
		return alert.Receipt{}, alert.Permanent(errors.New("slack: nil notification"))
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	msg := render(n)
	if s.webhook != "" {
		err := slack.PostWebhookCustomHTTPContext(ctx, s.webhook, s.client,
			&slack.WebhookMessage{Text: msg.text, Blocks: &slack.Blocks{BlockSet: msg.blocks}})
		return alert.Receipt{}, s.classify("webhook", err)
	}
	if channel, ts, ok := parseRef(n.Ref); ok {
		return s.followUp(ctx, n, msg, channel, ts)
	}
	return s.post(ctx, msg)
}

// post posts msg as a new top-level message.
func (s *Notifier) post(ctx context.Context, msg message) (alert.Receipt, error) {
	channel, ts, err := s.api.PostMessageContext(ctx, s.channel,
		slack.MsgOptionText(msg.text, false), slack.MsgOptionBlocks(msg.blocks...))
	if err != nil {
		return alert.Receipt{}, s.classify("chat.postMessage", err)
	}
	return alert.Receipt{Ref: channel + "/" + ts}, nil
}

// followUp rewrites the incident's message and replies in its thread. The
// update goes first: a retry after a failed reply repeats an idempotent
// update rather than a second reply.
func (s *Notifier) followUp(ctx context.Context, n *alert.Notification, msg message, channel, ts string) (alert.Receipt, error) {
	_, _, _, err := s.api.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(msg.text, false), slack.MsgOptionBlocks(msg.blocks...))
	if err != nil {
		if retry, _ := alert.IsRetryable(s.classify("chat.update", err)); retry {
			return alert.Receipt{}, s.classify("chat.update", err)
		}
		// The original is gone or cannot be edited: say it in a new message.
		return s.post(ctx, msg)
	}
	reply := renderReply(n)
	if _, _, err := s.api.PostMessageContext(ctx, channel,
		slack.MsgOptionText(reply.text, false), slack.MsgOptionBlocks(reply.blocks...), slack.MsgOptionTS(ts)); err != nil {
		return alert.Receipt{}, s.classify("chat.postMessage reply", err)
	}
	return alert.Receipt{Ref: n.Ref}, nil
}

// parseRef splits a "channel/ts" reference.
func parseRef(ref string) (channel, ts string, ok bool) {
	channel, ts, ok = strings.Cut(ref, "/")
	return channel, ts, ok && channel != "" && ts != ""
}
