package listener

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sync"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/logging"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Env is what the skeleton built for a listener or an operator command.
// Fields a listener did not ask for (Needs) are nil.
type Env struct {
	// Name is the listener's name.
	Name string
	// Log is the JSON logger on stderr, safe for concurrent goroutines.
	Log zerolog.Logger
	// Config is the shared YAML config (its defaults without a File).
	Config *config.Config
	// ConfigPath is the file Config came from ("" for none).
	ConfigPath string
	// Supervisor is the XML-RPC client, nil when no URL is known and the
	// listener does not require one.
	Supervisor *supervisor.Client
	// Durable holds what Spec.Store opened (see durable.Of).
	Durable Durable
	// Instance identifies the supervisord instance (events' SourceIDs),
	// set with a Store.
	Instance string

	bg     context.Context
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// Go runs fn on its own goroutine with the background context: it outlives
// a SIGTERM by Needs.Grace, and the listener waits for fn before exiting.
func (e *Env) Go(fn func(ctx context.Context)) {
	e.wg.Go(func() { fn(e.bg) })
}

// Background is the context of background work (see Go).
func (e *Env) Background() context.Context { return e.bg }

// Close ends the background work, waits for it and closes the store and
// the client.
func (e *Env) Close() {
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	if e.Supervisor != nil {
		e.Supervisor.Close()
	}
	if e.Durable != nil {
		if err := e.Durable.Close(); err != nil {
			e.Log.Error().Err(err).Msg("close state store")
		}
	}
}

// CommonFlags are the flags every command of a listener binary takes.
type CommonFlags struct {
	Config   string // -config
	State    string // -state
	LogLevel string // -log-level
}

// Register adds -config and -state (unless noConfigFile) and -log-level to fs.
func (c *CommonFlags) Register(fs *flag.FlagSet, noConfigFile bool) {
	if !noConfigFile {
		fs.StringVar(&c.Config, "config", "", "shared YAML config (default $"+config.EnvPath+", else "+config.DefaultPath+" if it exists)")
		fs.StringVar(&c.State, "state", "", "state store (default $SUPERGUARD_STATE, else the config's state_path, else /var/lib/superguard/state.db)")
	}
	fs.StringVar(&c.LogLevel, "log-level", "", "debug, info, warn or error (default $"+logging.EnvLevel+", else info)")
}

// Role says whose precedence rule picks the supervisord URL.
type Role int

// Roles.
const (
	// Listening: run by supervisord, which sets SUPERVISOR_SERVER_URL.
	Listening Role = iota
	// Operating: an operator command run from a shell.
	Operating
)

// Parts are a listener's name and the shared parts it uses: what Open
// builds for the protocol loop (Spec embeds them) and for an operator
// command.
type Parts struct {
	// Name is the binary's name and its key under listeners: in the YAML,
	// in logs, alerts and heartbeats.
	Name string
	// Needs says which shared parts the listener uses.
	Needs Needs
	// File reads the shared YAML config file (configfile.File). Nil: the
	// listener is configured by flags alone (no -config, -state or
	// operator commands), and links none of the file's reading and
	// validation (package configfile).
	File ConfigFile
	// Store opens the shared state store and what lives on it (package
	// durable: the alert pipeline, heartbeats, the pipeline's operator
	// commands). Nil: the listener keeps no state, and links none of it.
	Store StoreOpener
}

// Open builds an Env: the logger on stderr, the shared config, the
// supervisord client, and what the StoreOpener opens. The supervisord URL
// and credentials follow SupervisorConfig's rule for role.
func Open(ctx context.Context, parts Parts, flags CommonFlags, role Role, stderr io.Writer) (*Env, error) {
	name, needs := parts.Name, parts.Needs
	log, err := logging.New(zerolog.SyncWriter(stderr), name, flags.LogLevel)
	if err != nil {
		return nil, usageError{err}
	}
	e := &Env{Name: name, Log: log, Config: config.Default()}
	if parts.File != nil {
		e.ConfigPath = config.Path(flags.Config)
		if e.Config, err = parts.File.Load(e.ConfigPath, true); err != nil {
			return nil, usageError{err}
		}
	}
	sc := SupervisorConfig(e.Config.Supervisor, role == Listening)
	sc.Timeout = needs.SupervisorTimeout
	if sc.Timeout == 0 {
		sc.Timeout = supervisor.DefaultTimeout
	}
	if sc.URL != "" || needs.Supervisor == SupervisorRequired {
		if e.Supervisor, err = supervisor.New(sc); err != nil {
			return nil, usageError{fmt.Errorf("supervisord client: %w", err)}
		}
		// The RPC password, wherever it came from, is scrubbed like the
		// sinks' secrets from what the listener captures.
		e.Config.AddSecret(sc.Secret())
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.bg, e.cancel = bg, cancel
	if parts.Store != nil {
		if e.Durable, err = parts.Store.Open(ctx, e, flags, role); err != nil {
			e.Close()
			return nil, usageError{err}
		}
	}
	return e, nil
}

// SupervisorConfig is the one rule for reaching supervisord. A listener
// (preferEnv) takes the URL and credentials supervisord gives its children
// ($SUPERVISOR_SERVER_URL, $SUPERVISOR_USERNAME, $SUPERVISOR_PASSWORD or
// $SUPERVISOR_PASSWORD_FILE) first; an operator command takes the config
// file's supervisor section first. What the first source lacks comes from
// the other: the URL alone, or the credentials as a whole (a username and
// its password are never mixed between sources).
func SupervisorConfig(fromFile config.Supervisor, preferEnv bool) supervisor.Config {
	env := supervisor.ConfigFromEnv()
	file := supervisor.Config{URL: fromFile.URL, Username: fromFile.Username, Password: fromFile.Password.Value(),
		Timeout: supervisor.DefaultTimeout}
	first, second := file, env
	if preferEnv {
		first, second = env, file
	}
	c := first
	if c.URL == "" {
		c.URL = second.URL
	}
	if c.Username == "" && c.Password == "" && c.PasswordFile == "" {
		c.Username, c.Password, c.PasswordFile = second.Username, second.Password, second.PasswordFile
	}
	return c
}

// usageError marks an error as a usage or configuration error (ExitUsage).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }
