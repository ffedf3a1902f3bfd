package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Path joins elem to the scenario directory.
func (s *Supervisord) Path(elem ...string) string {
	return filepath.Join(append([]string{s.Dir}, elem...)...)
}

// Log returns supervisord's log so far.
func (s *Supervisord) Log() string { return readFile(s.LogPath) }

// ProblemLines returns the lines of supervisord's log showing each Problem
// so far, whether expected or not.
func (s *Supervisord) ProblemLines() map[Problem][]string {
	return findProblems(s.Log())
}

// WaitLog waits until a line of supervisord's log matches the regular
// expression pattern, and returns that line.
func (s *Supervisord) WaitLog(t testing.TB, pattern string, timeout time.Duration) string {
	t.Helper()
	return s.waitLines(t, "supervisord log", func() (string, error) { return s.Log(), nil }, pattern, 1, timeout)[0]
}

// WaitLogCount waits until at least n lines of supervisord's log match
// pattern, and returns all the matching lines.
func (s *Supervisord) WaitLogCount(t testing.TB, pattern string, n int, timeout time.Duration) []string {
	t.Helper()
	return s.waitLines(t, "supervisord log", func() (string, error) { return s.Log(), nil }, pattern, n, timeout)
}

// WaitAcknowledged waits until supervisord has logged n results of the
// event listener name ("event was processed": the listener answered RESULT
// OK), and returns those lines. It needs loglevel=debug (Options.LogLevel,
// or loglevel= in a ConfTemplate). A listener showing RUNNING can be deaf
// (in supervisord's UNKNOWN listener state after a stray byte on its
// stdout, it gets no more events); one that acknowledged n events is not.
// Wait for at least 2: the first result may be the only one.
func (s *Supervisord) WaitAcknowledged(t testing.TB, name string, n int, timeout time.Duration) []string {
	t.Helper()
	return s.WaitLogCount(t, `(?:^| )`+regexp.QuoteMeta(name)+`: event was processed$`, n, timeout)
}

// WaitListenerLog waits until a line of the stderr log of process name (a
// listener or a program; "name" or "group:name") matches pattern, and returns
// that line.
func (s *Supervisord) WaitListenerLog(t testing.TB, name, pattern string, timeout time.Duration) string {
	t.Helper()
	return s.WaitListenerLogCount(t, name, pattern, 1, timeout)[0]
}

// WaitListenerLogCount waits until at least n lines of the stderr log of
// process name match pattern, and returns all the matching lines.
func (s *Supervisord) WaitListenerLogCount(t testing.TB, name, pattern string, n int, timeout time.Duration) []string {
	t.Helper()
	read := func() (string, error) {
		path, err := s.StderrPath(name)
		if err != nil {
			return "", err
		}
		return readFile(path), nil
	}
	return s.waitLines(t, "stderr of "+name, read, pattern, n, timeout)
}

func (s *Supervisord) waitLines(t testing.TB, what string, read func() (string, error), pattern string, n int, timeout time.Duration) []string {
	t.Helper()
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("harness: pattern %q: %v", pattern, err)
	}
	var matches []string
	testsupport.Eventually(t, timeout, fmt.Sprintf("%d line(s) of %s matching %q", n, what, pattern), func() (bool, string) {
		text, err := read()
		if err != nil {
			return false, err.Error()
		}
		matches = matchingLines(text, re)
		if len(matches) >= n {
			return true, ""
		}
		return false, fmt.Sprintf("%d matching line(s); end of %s:\n%s", len(matches), what, tail(text, 4<<10))
	})
	return matches
}

// MatchingLines returns the lines of text that match re, without their
// line endings.
func MatchingLines(text string, re *regexp.Regexp) []string { return matchingLines(text, re) }

func matchingLines(text string, re *regexp.Regexp) []string {
	var out []string
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if re.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

// StderrPath returns the stderr log file of process name, as supervisord
// reports it (getProcessInfo), falling back to the stderr_logfile of the
// conf's [eventlistener:name] or [program:name] section. The Go supervisord
// ignores stderr_logfile for event listeners and passes their stderr through
// to its own: there, a listener's stderr is OutPath, shared with
// supervisord's output and every other listener.
func (s *Supervisord) StderrPath(name string) (string, error) {
	s.mu.Lock()
	p, ok := s.logPaths[name]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	if s.Backend == GoSupervisord && s.isListener(name) {
		return s.OutPath, nil
	}
	path, rpcErr := s.stderrPathRPC(name)
	if path == "" {
		path = s.stderrPathConf(name)
	}
	if path == "" {
		if rpcErr == nil {
			rpcErr = errors.New("no stderr_logfile")
		}
		return "", fmt.Errorf("stderr log of %s: %w", name, rpcErr)
	}
	s.mu.Lock()
	s.logPaths[name] = path
	s.mu.Unlock()
	return path, nil
}

func (s *Supervisord) stderrPathRPC(name string) (string, error) {
	select {
	case <-s.done:
		return "", errors.New("supervisord has exited")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	info, err := s.Client.GetProcessInfo(ctx, name)
	if err != nil {
		return "", err
	}
	return info.StderrLogfile, nil
}

// processName returns the process part of "group:name" (or name itself).
func processName(name string) string {
	if _, after, ok := strings.Cut(name, ":"); ok {
		return after
	}
	return name
}

// isListener reports whether the conf has an [eventlistener:name] section.
func (s *Supervisord) isListener(name string) bool {
	return FindSection(ParseConf(s.conf), "eventlistener:"+processName(name)) != nil
}

func (s *Supervisord) stderrPathConf(name string) string {
	proc := processName(name)
	sections := ParseConf(s.conf)
	for _, kind := range []string{"eventlistener:", "program:"} {
		if sec := FindSection(sections, kind+proc); sec != nil {
			p := sec.Values["stderr_logfile"]
			if p != "" && p != "AUTO" && p != "NONE" && !strings.Contains(p, "%(") {
				return expandHere(p, s.Dir)
			}
		}
	}
	return ""
}

// ReadListenerStderr returns the stderr log of process name so far ("" when
// it has none yet).
func (s *Supervisord) ReadListenerStderr(name string) string {
	path, err := s.StderrPath(name)
	if err != nil {
		return ""
	}
	return readFile(path)
}

// WaitProcessState waits until getProcessInfo(name) reports state want, and
// returns that info.
func (s *Supervisord) WaitProcessState(t testing.TB, name string, want supervisor.ProcessState, timeout time.Duration) supervisor.ProcessInfo {
	t.Helper()
	var info supervisor.ProcessInfo
	testsupport.Eventually(t, timeout, fmt.Sprintf("%s to be %v", name, want), func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var err error
		info, err = s.Client.GetProcessInfo(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		return info.State == want, fmt.Sprintf("%v (statename %q, pid %d, exitstatus %d, spawnerr %q, description %q)",
			info.State, info.StateName, info.PID, info.ExitStatus, info.SpawnErr, info.Description)
	})
	return info
}

// Signal sends sig to process name's PID (as getProcessInfo reports it)
// directly, not through supervisord, and returns that PID. Use it to
// simulate crashes (SIGKILL) that supervisord did not ask for.
func (s *Supervisord) Signal(t testing.TB, name string, sig syscall.Signal) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := s.Client.GetProcessInfo(ctx, name)
	if err != nil {
		t.Fatalf("harness: signal %s: %v", name, err)
	}
	if info.PID <= 0 {
		t.Fatalf("harness: signal %s: not running (%v)", name, info.State)
	}
	if err := syscall.Kill(info.PID, sig); err != nil {
		t.Fatalf("harness: signal %s (pid %d): %v", name, info.PID, err)
	}
	return info.PID
}

// NewClient returns a client for this supervisord built from cfg (URL
// defaults to the unix socket), closed at cleanup.
func (s *Supervisord) NewClient(t testing.TB, cfg supervisor.Config) *supervisor.Client {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = s.URL
	}
	c, err := supervisor.New(cfg)
	if err != nil {
		t.Fatalf("harness: client for %s: %v", cfg.URL, err)
	}
	t.Cleanup(c.Close)
	return c
}

// SkipIfListenerExitUnsupported skips the test on the Go supervisord
// backend, whose daemon panics and kills every child when any eventlistener
// process exits. Call it before Start in scenarios where a listener exits.
func SkipIfListenerExitUnsupported(t testing.TB, b Backend) {
	t.Helper()
	if b == GoSupervisord {
		t.Skip("go-supervisord v0.7.3 panics and kills every child when an eventlistener process exits; this scenario makes a listener exit")
	}
}
