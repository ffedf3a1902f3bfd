package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
)

// deadMan pings an external heartbeat monitor (healthchecks.io, Cronitor,
// a Dead Man's Snitch, an Alertmanager-fed receiver...) every interval. The
// monitor pages when the pings stop: that covers a dead host or a dead
// suite, which no listener can report about itself. A failed ping is
// logged, never fatal. It runs in its own goroutine, far from the ack path.
type deadMan struct {
	url      string // secret: may carry a token
	method   string
	interval time.Duration
	timeout  time.Duration
	client   *http.Client
	log      zerolog.Logger
	secrets  []string // url and the parts of it that identify the check
}

func newDeadMan(cfg DeadManConfig, client *http.Client, log zerolog.Logger) *deadMan {
	if client == nil {
		client = &http.Client{Timeout: cfg.Timeout}
	}
	return &deadMan{
		url:      cfg.URL,
		method:   cfg.Method,
		interval: cfg.Interval,
		timeout:  cfg.Timeout,
		client:   client,
		log:      log.With().Str("component", "deadman").Logger(),
		secrets:  urlSecrets(cfg.URL),
	}
}

// urlSecrets returns the whole URL and each part of it that may be a
// secret (path, query, user info), longest first so that redaction of the
// whole URL happens before its parts.
func urlSecrets(raw string) []string {
	s := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return s
	}
	if u.RawQuery != "" {
		s = append(s, u.RawQuery)
	}
	if p := strings.Trim(u.EscapedPath(), "/"); p != "" {
		s = append(s, p)
		if u.Path != u.EscapedPath() {
			s = append(s, strings.Trim(u.Path, "/"))
		}
	}
	if u.User != nil {
		s = append(s, u.User.String())
		if pw, ok := u.User.Password(); ok && pw != "" {
			s = append(s, pw)
		}
	}
	return s
}

// ping makes one request with a deadline. Its error never carries the URL.
func (d *deadMan) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, d.method, d.url, nil)
	if err != nil {
		return alert.RedactError(fmt.Errorf("dead-man request: %w", err), d.secrets...)
	}
	req.Header.Set("User-Agent", "superguard-crashpager")
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error prints the whole URL
		}
		return alert.RedactError(fmt.Errorf("dead-man ping: %w", err), d.secrets...)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("dead-man ping: status %d", resp.StatusCode)
	}
	return nil
}
