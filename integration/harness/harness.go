package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Backend selects which supervisord implementation a scenario runs on.
type Backend int

// Backends.
const (
	// RealSupervisord is supervisord 4.x, the production default.
	RealSupervisord Backend = iota
	// GoSupervisord is github.com/ochinchina/supervisord v0.7.3, a
	// compatibility target with documented limits.
	GoSupervisord
)

// String returns "supervisord" or "go-supervisord".
func (b Backend) String() string {
	switch b {
	case RealSupervisord:
		return "supervisord"
	case GoSupervisord:
		return "go-supervisord"
	}
	return "backend(" + strconv.Itoa(int(b)) + ")"
}

// Defaults of Options.
const (
	DefaultStartTimeout = 30 * time.Second
	DefaultStopTimeout  = 30 * time.Second
	DefaultLogLevel     = "info"
)

// Options describes one scenario.
type Options struct {
	// Backend is the supervisord to run; default RealSupervisord.
	Backend Backend
	// Sections is the scenario's conf text: [program:x], [group:x],
	// [eventlistener:x] sections, as a template (see the package comment).
	// It follows the generated [unix_http_server], [inet_http_server],
	// [supervisord], [rpcinterface:supervisor] and [supervisorctl] sections.
	Sections string
	// ConfTemplate, when set, replaces the generated sections: the whole conf
	// is ConfTemplate followed by Sections. The harness reads the socket path
	// ([unix_http_server] file), the log ([supervisord] logfile) and the inet
	// port from it, and creates the directories those paths (and pidfile,
	// childlogdir) live in, as systemd's RuntimeDirectory= and
	// LogsDirectory= do in production. Used to validate shipped confs.
	ConfTemplate string
	// Dir is the scenario directory: conf, socket and logs, and every path
	// of a ConfTemplate's [supervisord] and [unix_http_server] must be in
	// it. It must exist (e.g. the DESTDIR a test installed into), and stays
	// when the test ends. Default: a new temporary directory.
	Dir string
	// Files are extra files written into the scenario directory before
	// supervisord starts: relative path -> template text (e.g. conf.d/x.conf
	// for an [include]). Parent directories are created.
	Files map[string]string
	// Vars are extra template values: {{.Vars.key}}.
	Vars map[string]string
	// Inet also serves XML-RPC on 127.0.0.1 at a free port ({{.InetURL}}),
	// protected by Username and Password when Username is set.
	Inet bool
	// Username and Password protect the inet server, and the unix socket too
	// when UnixAuth is set; Supervisord.Client uses them.
	Username, Password string
	// UnixAuth puts Username/Password on the unix socket as well.
	UnixAuth bool
	// Env is added to supervisord's environment, which its children inherit.
	// SUPERVISOR_* and SUPERGUARD_* variables of the test process are never
	// passed on (see testsupport.CleanEnv).
	Env []string
	// Expect lists problems the scenario must produce (the test fails if one
	// never shows up); Tolerate lists problems it may produce. Any other
	// Problem in supervisord's log fails the test.
	Expect, Tolerate []Problem
	// LogLevel is supervisord's loglevel; default "info".
	LogLevel string
	// StartTimeout bounds the wait for getState RUNNING; default 30s.
	StartTimeout time.Duration
	// StopTimeout bounds supervisord's exit after SIGTERM before the harness
	// SIGKILLs it; default 30s. Keep it above every stopwaitsecs.
	StopTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.LogLevel == "" {
		o.LogLevel = DefaultLogLevel
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = DefaultStopTimeout
	}
}

// Supervisord is a running supervisord started by Start.
type Supervisord struct {
	Backend  Backend
	Dir      string // scenario directory: conf, socket, logs
	ConfPath string // the rendered supervisord.conf
	LogPath  string // supervisord's own log
	OutPath  string // supervisord's stdout and stderr
	Socket   string // unix socket path
	URL      string // "unix://" + Socket
	InetURL  string // "http://127.0.0.1:port" with Options.Inet, else ""
	PID      int
	// Client talks to supervisord over the unix socket (with the credentials
	// when Options.UnixAuth is set).
	Client *supervisor.Client

	Username, Password string

	opts Options
	conf string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped

	stopOnce  sync.Once
	stopErr   error
	survivors []proc
	abandoned bool // a start attempt that was retried: no checks at cleanup

	mu        sync.Mutex
	logPaths  map[string]string // process name -> stderr log path
	allStderr map[string]string // every process's stderr log, gathered at stop
}

// Start starts a supervisord for the scenario described by opts and waits
// until it answers getState with RUNNING. Everything it starts is stopped in
// t.Cleanup, which also scans supervisord's log for Problems and, when the
// test failed, logs the conf, supervisord's output and log and every
// process's stderr log.
func Start(t testing.TB, opts Options) *Supervisord {
	t.Helper()
	opts.setDefaults()
	dir := opts.Dir
	if dir == "" {
		dir = scenarioDir(t)
	}
	var binary string
	switch opts.Backend {
	case RealSupervisord:
		binary = SupervisordPath(t)
	case GoSupervisord:
		binary = Bin(t, GoSupervisordPackage)
	default:
		t.Fatalf("harness: unknown backend %v", opts.Backend)
	}
	const attempts = 3
	for attempt := 1; ; attempt++ {
		s, err := launch(t, opts, dir, binary)
		if err == nil {
			return s
		}
		if s != nil && opts.Inet && attempt < attempts && s.portTaken() {
			s.abandoned = true // another process took our free port: try another
			continue
		}
		out := ""
		if s != nil {
			out = "\n--- supervisord output:\n" + tail(readFile(s.OutPath), 16<<10)
		}
		t.Fatalf("harness: start %s: %v%s", opts.Backend, err, out)
	}
}

// scenarioDir returns t.TempDir(), or a short directory under os.TempDir()
// when t.TempDir() is too long for a unix socket path (108 bytes including
// supervisord's temporary ".<pid>" suffix and a subdirectory).
func scenarioDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) <= 64 {
		return dir
	}
	short, err := os.MkdirTemp("", "sg-")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(short) }) // registered first, runs after the stop
	return short
}

// launch renders the conf, starts supervisord and waits for RUNNING. On
// error it returns the (stopped) Supervisord when one was started.
func launch(t testing.TB, opts Options, dir, binary string) (*Supervisord, error) {
	t.Helper()
	s := &Supervisord{
		Backend:  opts.Backend,
		Dir:      dir,
		ConfPath: filepath.Join(dir, "supervisord.conf"),
		OutPath:  filepath.Join(dir, "supervisord.out"),
		Socket:   filepath.Join(dir, "supervisor.sock"),
		Username: opts.Username,
		Password: opts.Password,
		opts:     opts,
		done:     make(chan struct{}),
		logPaths: map[string]string{},
	}
	s.URL = "unix://" + s.Socket
	data := ConfData{Dir: dir, Socket: s.Socket, URL: s.URL, Username: opts.Username, Password: opts.Password, Vars: opts.Vars}
	if data.Vars == nil {
		data.Vars = map[string]string{}
	}
	if port, err := freePort(); err == nil {
		data.ExporterListen = "127.0.0.1:" + strconv.Itoa(port)
	} else {
		return nil, err
	}
	if opts.Inet && opts.ConfTemplate == "" {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		data.InetAddr = "127.0.0.1:" + strconv.Itoa(port)
		data.InetURL = "http://" + data.InetAddr
		s.InetURL = data.InetURL
	}
	conf, err := renderConf(opts, data, binPath)
	if err != nil {
		return nil, err
	}
	s.conf = conf
	if err := s.applyConf(conf); err != nil {
		return nil, err
	}
	data.Socket, data.URL, data.InetURL = s.Socket, s.URL, s.InetURL // a ConfTemplate may move them
	data.InetAddr = strings.TrimPrefix(s.InetURL, "http://")
	if err := os.WriteFile(s.ConfPath, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("write conf: %w", err)
	}
	for rel, text := range opts.Files {
		if err := writeTemplateFile(filepath.Join(dir, rel), rel, text, data); err != nil {
			return nil, err
		}
	}

	s.Client, err = supervisor.New(supervisor.Config{URL: s.URL, Username: s.unixUser(), Password: s.unixPassword(), Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}

	out, err := os.OpenFile(s.OutPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("supervisord output file: %w", err)
	}
	args := []string{"-c", s.ConfPath}
	if opts.Backend == RealSupervisord {
		args = []string{"-n", "-c", s.ConfPath}
	}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Dir = dir
	s.cmd.Env = supervisordEnv(opts.Env)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("exec %s: %w", binary, err)
	}
	s.PID = s.cmd.Process.Pid
	go func() {
		_ = s.cmd.Wait()
		out.Close()
		close(s.done)
	}()
	t.Cleanup(func() { s.cleanup(t) })

	if err := s.waitRunning(opts.StartTimeout); err != nil {
		s.stop()
		return s, err
	}
	return s, nil
}

// applyConf reads the socket, log and inet server from a ConfTemplate conf
// and creates the directories its paths need; for a generated conf it only
// sets LogPath.
func (s *Supervisord) applyConf(conf string) error {
	if s.opts.ConfTemplate == "" {
		s.LogPath = filepath.Join(s.Dir, "supervisord.log")
		return nil
	}
	sections := ParseConf(conf)
	sup := FindSection(sections, "supervisord")
	unix := FindSection(sections, "unix_http_server")
	if sup == nil || unix == nil || unix.Values["file"] == "" {
		return errors.New("conf template: needs [supervisord] and [unix_http_server] with file=")
	}
	s.Socket = expandHere(unix.Values["file"], s.Dir)
	s.URL = "unix://" + s.Socket
	s.LogPath = expandHere(sup.Values["logfile"], s.Dir)
	if s.LogPath == "" {
		s.LogPath = filepath.Join(s.Dir, "supervisord.log")
	}
	if inet := FindSection(sections, "inet_http_server"); inet != nil && inet.Values["port"] != "" {
		s.InetURL = "http://" + inet.Values["port"]
	}
	dirs := []string{filepath.Dir(s.Socket), filepath.Dir(s.LogPath)}
	if p := sup.Values["pidfile"]; p != "" {
		dirs = append(dirs, filepath.Dir(expandHere(p, s.Dir)))
	}
	if p := sup.Values["childlogdir"]; p != "" {
		dirs = append(dirs, expandHere(p, s.Dir))
	}
	for _, d := range dirs {
		if !strings.HasPrefix(d, s.Dir) {
			return fmt.Errorf("conf template: path %s is outside the scenario directory %s", d, s.Dir)
		}
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("conf template: %w", err)
		}
	}
	return nil
}

func (s *Supervisord) unixUser() string {
	if s.opts.UnixAuth {
		return s.Username
	}
	return ""
}

func (s *Supervisord) unixPassword() string {
	if s.opts.UnixAuth {
		return s.Password
	}
	return ""
}

func writeTemplateFile(path, name, text string, data ConfData) error {
	var out strings.Builder
	if err := execTemplate(&out, name, text, template.FuncMap{"bin": binPath}, data); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("file %s: %w", name, err)
	}
	if err := os.WriteFile(path, []byte(out.String()), 0o600); err != nil {
		return fmt.Errorf("file %s: %w", name, err)
	}
	return nil
}

// supervisordEnv is the environment supervisord and its children get.
func supervisordEnv(extra []string) []string { return testsupport.CleanEnv(extra...) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portTaken reports whether supervisord failed because its inet port was in use.
func (s *Supervisord) portTaken() bool {
	out := readFile(s.OutPath) + readFile(s.LogPath)
	return strings.Contains(out, "already listening") || strings.Contains(out, "address already in use")
}

// waitRunning polls getState until RUNNING, the process exits, or timeout.
func (s *Supervisord) waitRunning(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		select {
		case <-s.done:
			return fmt.Errorf("supervisord exited during start-up (%v); last getState: %s", s.cmd.ProcessState, last)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := s.Client.GetState(ctx)
		cancel()
		switch {
		case err == nil && st.Name == "RUNNING":
			return nil
		case err == nil:
			last = st.Name
		default:
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("getState not RUNNING within %v; last: %s", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops supervisord now: SIGTERM, up to Options.StopTimeout for it to
// stop its children and exit, then SIGKILL to its process group, and SIGKILL
// to any descendant still alive. It is idempotent and also runs at cleanup;
// call it to assert on what happens at shutdown. It fails the test if
// supervisord had to be killed.
func (s *Supervisord) Stop(t testing.TB) {
	t.Helper()
	s.stop()
	if s.stopErr != nil {
		t.Error(s.stopErr)
	}
}

func (s *Supervisord) stop() {
	s.stopOnce.Do(func() {
		s.gatherStderrPaths()
		tracked := procSet{}
		tracked.addDescendants(s.PID)
		_ = syscall.Kill(s.PID, syscall.SIGTERM)
		deadline := time.After(s.opts.StopTimeout)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			select {
			case <-s.done:
				break wait
			case <-tick.C:
				tracked.addDescendants(s.PID)
			case <-deadline:
				s.stopErr = fmt.Errorf("harness: %s (pid %d) did not exit within %v of SIGTERM: killed it", s.Backend, s.PID, s.opts.StopTimeout)
				_ = syscall.Kill(-s.PID, syscall.SIGKILL)
				<-s.done
				break wait
			}
		}
		s.survivors = tracked.killSurvivors()
		s.Client.Close()
	})
}

// gatherStderrPaths records every process's stderr log path while
// supervisord still answers, for the failure report.
func (s *Supervisord) gatherStderrPaths() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	infos, err := s.Client.GetAllProcessInfo(ctx)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allStderr = map[string]string{}
	for _, p := range infos {
		if p.StderrLogfile != "" {
			s.allStderr[p.FullName()] = p.StderrLogfile
		}
	}
}

func (s *Supervisord) cleanup(t testing.TB) {
	s.stop()
	if s.abandoned {
		return
	}
	if s.stopErr != nil {
		t.Error(s.stopErr)
	}
	for _, p := range s.survivors {
		t.Logf("harness: killed pid %d (%s), still alive after %s exited", p.PID, p.Comm, s.Backend)
	}
	for _, f := range checkProblems(findProblems(readFile(s.LogPath)), s.opts.Expect, s.opts.Tolerate) {
		t.Error("harness: " + f)
	}
	if t.Failed() {
		s.report(t)
	}
}

// report logs what a failed test needs to be understood.
func (s *Supervisord) report(t testing.TB) {
	t.Logf("harness: %s scenario in %s\n--- conf %s:\n%s", s.Backend, s.Dir, s.ConfPath, s.conf)
	t.Logf("--- supervisord output %s:\n%s", s.OutPath, tail(readFile(s.OutPath), 16<<10))
	t.Logf("--- supervisord log %s:\n%s", s.LogPath, tail(readFile(s.LogPath), 64<<10))
	s.mu.Lock()
	paths := map[string]string{}
	for name, p := range s.allStderr {
		paths[p] = name
	}
	for name, p := range s.logPaths {
		paths[p] = name
	}
	s.mu.Unlock()
	for p, name := range paths {
		t.Logf("--- stderr of %s %s:\n%s", name, p, tail(readFile(p), 32<<10))
	}
}

func readFile(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// tail returns the last max bytes of s, marking a cut.
func tail(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("[... %d bytes cut ...]\n", len(s)-max) + s[len(s)-max:]
}
