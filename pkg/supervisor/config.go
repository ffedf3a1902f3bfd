package supervisor

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables read by ConfigFromEnv. supervisord sets
// SUPERVISOR_SERVER_URL for every child; the credentials must be passed by
// the program's environment= setting.
const (
	EnvServerURL    = "SUPERVISOR_SERVER_URL"
	EnvUsername     = "SUPERVISOR_USERNAME"
	EnvPassword     = "SUPERVISOR_PASSWORD"
	EnvPasswordFile = "SUPERVISOR_PASSWORD_FILE"
)

// DefaultTimeout is the per-call deadline used when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Config configures a Client. The zero value is not usable: URL is required.
type Config struct {
	// URL is "unix:///path/to/supervisor.sock" or "http://host:port"
	// (the path defaults to /RPC2). Default $SUPERVISOR_SERVER_URL.
	URL string
	// Username enables HTTP Basic auth when not empty. Default $SUPERVISOR_USERNAME.
	Username string
	// Password is the Basic auth password. Default $SUPERVISOR_PASSWORD.
	// Never take it from the command line: use PasswordFile.
	Password string
	// PasswordFile names a file holding the password (one trailing newline
	// is trimmed). When set it takes precedence over Password. Default
	// $SUPERVISOR_PASSWORD_FILE.
	PasswordFile string
	// Timeout bounds each call whose context has no deadline. Default 5s.
	Timeout time.Duration
}

// ConfigFromEnv returns a Config filled from the environment supervisord
// gives its children: SUPERVISOR_SERVER_URL, SUPERVISOR_USERNAME,
// SUPERVISOR_PASSWORD and SUPERVISOR_PASSWORD_FILE. Timeout is DefaultTimeout.
func ConfigFromEnv() Config {
	return Config{
		URL:          os.Getenv(EnvServerURL),
		Username:     os.Getenv(EnvUsername),
		Password:     os.Getenv(EnvPassword),
		PasswordFile: os.Getenv(EnvPasswordFile),
		Timeout:      DefaultTimeout,
	}
}

// Validate checks the URL and the timeout. It does not read PasswordFile.
func (c Config) Validate() error {
	if _, err := parseServerURL(c.URL); err != nil {
		return err
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %v is negative", c.Timeout)
	}
	if (c.Password != "" || c.PasswordFile != "") && c.Username == "" {
		return errors.New("password given without a username")
	}
	return nil
}

// Secret returns the password the client uses (PasswordFile's content
// when set, else Password; "" when none or unreadable), for a caller that
// scrubs secrets from what it captures.
func (c Config) Secret() string {
	pw, _ := c.password()
	return pw
}

// password returns the password to use: PasswordFile's content when set,
// else Password.
func (c Config) password() (string, error) {
	if c.PasswordFile == "" {
		return c.Password, nil
	}
	b, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		// The *PathError names the file, never its content.
		return "", fmt.Errorf("read password file: %w", err)
	}
	pw := strings.TrimSuffix(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("password file %q is empty", c.PasswordFile)
	}
	return pw, nil
}

// serverURL is a parsed and validated Config.URL.
type serverURL struct {
	display    string // what errors and URL() show: no credentials
	socketPath string // unix socket path, "" for http(s)
	endpoint   string // the URL requests are sent to
}

// parseServerURL validates raw. Its errors show raw only with any userinfo
// redacted, since a URL is the one place a careless config could put a
// password.
func parseServerURL(raw string) (serverURL, error) {
	if raw == "" {
		return serverURL{}, fmt.Errorf("no supervisord url: set %s or the listener's url flag", EnvServerURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the raw URL, credentials included
		}
		return serverURL{}, fmt.Errorf("invalid supervisord url %q: %w", redactURL(raw), err)
	}
	if u.User != nil {
		return serverURL{}, fmt.Errorf("supervisord url %q must not carry credentials: use a username and a password file", redactURL(raw))
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" {
			// unix://relative/path would make "relative" the host.
			return serverURL{}, fmt.Errorf("supervisord url %q: want unix:///absolute/path", raw)
		}
		if u.Path == "" || u.Path == "/" {
			return serverURL{}, fmt.Errorf("supervisord url %q has no socket path", raw)
		}
		// The host of the HTTP URL is ignored: the transport dials the socket.
		return serverURL{display: "unix://" + u.Path, socketPath: u.Path, endpoint: "http://localhost/RPC2"}, nil
	case "http", "https":
		if u.Host == "" {
			return serverURL{}, fmt.Errorf("supervisord url %q has no host", raw)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return serverURL{}, fmt.Errorf("supervisord url %q: query and fragment are not allowed", raw)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/RPC2"
		}
		return serverURL{display: u.String(), endpoint: u.String()}, nil
	default:
		return serverURL{}, fmt.Errorf("supervisord url %q: scheme must be unix, http or https", redactURL(raw))
	}
}

// redactURL replaces the password of a "scheme://user:password@host" URL
// with "xxxxx" without parsing it (raw may be invalid).
func redactURL(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		rest = raw
	}
	authority := rest
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return raw
	}
	userinfo := authority[:at]
	user, _, hasPassword := strings.Cut(userinfo, ":")
	if !hasPassword {
		return raw
	}
	prefix := raw[:len(raw)-len(rest)]
	return prefix + user + ":xxxxx" + rest[at:]
}
