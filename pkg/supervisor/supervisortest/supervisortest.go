// Package supervisortest starts a real supervisord for a test: a conf in
// t.TempDir() with its unix socket there, optional Basic auth and inet
// server, stopped by PID in t.Cleanup. Its log is printed when the test fails.
//
//	srv := supervisortest.Start(t, `
//	[program:sleeper]
//	command=sleep 1000
//	`)
//	c := srv.Client(t)
//	srv.WaitProcessState(t, "sleeper:sleeper", supervisor.ProcessRunning)
//
// The supervisord binary is $SUPERGUARD_SUPERVISORD, else "supervisord" on
// PATH, else /usr/bin/supervisord; tests are skipped when there is none
// (scripts/install-supervisor.sh installs one).
package supervisortest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// EnvSupervisord names the supervisord binary to use (set by `make test`).
const EnvSupervisord = "SUPERGUARD_SUPERVISORD"

// Timeouts of Start and Stop and the default of the Wait helpers.
const (
	StartTimeout = 20 * time.Second
	StopTimeout  = 15 * time.Second
	WaitTimeout  = 20 * time.Second
)

// Options configures StartWith.
type Options struct {
	// Conf is appended to the generated conf: [program:x], [group:x] and
	// [eventlistener:x] sections. %(here)s expands to Server.Dir.
	Conf string
	// Username and Password, when set, protect both XML-RPC servers with
	// Basic auth (Server.Client uses them).
	Username, Password string
	// Inet also serves XML-RPC on 127.0.0.1 at a free port (Server.InetURL).
	Inet bool
	// Env is added to supervisord's environment (children inherit it), which
	// is the test's without SUPERVISOR_* and SUPERGUARD_* variables.
	Env []string
}

// Server is a running supervisord started by Start or StartWith.
type Server struct {
	Dir      string // the conf's directory (t.TempDir())
	URL      string // "unix:///<socket>"
	InetURL  string // "http://127.0.0.1:<port>" when Options.Inet, else ""
	ConfPath string
	LogPath  string // supervisord's own log (childlogdir is Dir too)
	PID      int

	Username, Password string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been reaped
	err  error         // Wait's result, valid after done
}

// Start starts a supervisord whose conf ends with confSections and waits
// until it answers getState with RUNNING. It is stopped in t.Cleanup.
func Start(t testing.TB, confSections string) *Server {
	t.Helper()
	return StartWith(t, Options{Conf: confSections})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := findSupervisord(t)
	// An inet port picked free can be taken before supervisord binds it:
	// try a few ports.
	var lastErr error
	for range 3 {
		s, err := start(t, bin, opts)
		if err == nil {
			return s
		}
		lastErr = err
		if !opts.Inet || !strings.Contains(err.Error(), "already listening") {
			break
		}
	}
	t.Fatalf("supervisortest: %v", lastErr)
	return nil
}

func findSupervisord(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvSupervisord); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("supervisortest: %s=%s: %v", EnvSupervisord, p, err)
		}
		return p
	}
	if p, err := exec.LookPath("supervisord"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/supervisord"); err == nil {
		return "/usr/bin/supervisord"
	}
	t.Skipf("supervisortest: no supervisord (set %s or run scripts/install-supervisor.sh)", EnvSupervisord)
	return ""
}

func start(t testing.TB, bin string, opts Options) (*Server, error) {
	t.Helper()
	dir := t.TempDir()
	s := &Server{
		Dir:      dir,
		ConfPath: filepath.Join(dir, "supervisord.conf"),
		LogPath:  filepath.Join(dir, "supervisord.log"),
		Username: opts.Username,
		Password: opts.Password,
	}
	sock := filepath.Join(dir, "supervisor.sock")
	if len(sock) > 100 { // sun_path holds 108 bytes
		short, err := os.MkdirTemp("", "sv")
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { _ = os.RemoveAll(short) })
		sock = filepath.Join(short, "s.sock")
	}
	s.URL = "unix://" + sock

	var b strings.Builder
	auth := ""
	if opts.Username != "" {
		auth = fmt.Sprintf("username=%s\npassword=%s\n", opts.Username, opts.Password)
	}
	fmt.Fprintf(&b, "[unix_http_server]\nfile=%s\nchmod=0700\n%s\n", sock, auth)
	if opts.Inet {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.InetURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		fmt.Fprintf(&b, "[inet_http_server]\nport=127.0.0.1:%d\n%s\n", port, auth)
	}
	fmt.Fprintf(&b, "[supervisord]\nnodaemon=true\nlogfile=%s\npidfile=%s\nchildlogdir=%s\nloglevel=info\n\n",
		s.LogPath, filepath.Join(dir, "supervisord.pid"), dir)
	b.WriteString("[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
	b.WriteString(opts.Conf)
	b.WriteString("\n")
	if err := os.WriteFile(s.ConfPath, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}

	out, err := os.Create(filepath.Join(dir, "supervisord.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(bin, "-n", "-c", s.ConfPath)
	cmd.Dir = dir
	cmd.Env = testsupport.CleanEnv(opts.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that a supervisord that had to be killed
	// does not leave its children behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s.cmd, s.PID, s.done = cmd, cmd.Process.Pid, make(chan struct{})
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("supervisortest: supervisord log (%s):\n%s", s.LogPath, s.Log())
		}
		if err := s.Stop(); err != nil {
			t.Errorf("supervisortest: %v", err)
		}
	})

	if err := s.waitRunning(t); err != nil {
		return nil, err
	}
	return s, nil
}

// waitRunning polls getState until supervisord is RUNNING, it exits, or
// StartTimeout passes.
func (s *Server) waitRunning(t testing.TB) error {
	t.Helper()
	c := s.newClient(t, s.URL)
	defer c.Close()
	deadline := time.Now().Add(StartTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			out, _ := os.ReadFile(filepath.Join(s.Dir, "supervisord.out"))
			return fmt.Errorf("supervisord exited at start (%v): %s\n%s", s.err, out, s.Log())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := c.GetState(ctx)
		cancel()
		if err == nil && st.Code == supervisor.SupervisorRunning {
			return nil
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	_ = s.Stop()
	return fmt.Errorf("supervisord not RUNNING after %v: %v\n%s", StartTimeout, lastErr, s.Log())
}

// Stop sends SIGTERM to supervisord and waits for it to exit. After
// StopTimeout (a program ignoring SIGTERM with a long stopwaitsecs) it
// SIGKILLs supervisord's children and their process groups, then supervisord
// itself, and reports that as an error. It is idempotent; t.Cleanup calls it.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = syscall.Kill(s.PID, syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(StopTimeout):
	}
	children := childPIDs(s.PID)
	for _, pid := range children {
		// supervisord makes each child the leader of its own process group.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.PID, syscall.SIGKILL)
		<-s.done
	}
	return fmt.Errorf("supervisord pid %d still running %v after SIGTERM: killed its children %v", s.PID, StopTimeout, children)
}

// childPIDs lists the processes whose parent is pid, from /proc.
func childPIDs(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// Exited reports whether the supervisord process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Log returns supervisord's log so far.
func (s *Server) Log() string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// Client returns a client for the unix socket, with the server's
// credentials and a 10s timeout. Its idle connections are closed in
// t.Cleanup.
func (s *Server) Client(t testing.TB) *supervisor.Client {
	t.Helper()
	c := s.newClient(t, s.URL)
	t.Cleanup(c.Close)
	return c
}

// InetClient is Client for the inet server (Options.Inet).
func (s *Server) InetClient(t testing.TB) *supervisor.Client {
	t.Helper()
	if s.InetURL == "" {
		t.Fatalf("supervisortest: InetClient without Options.Inet")
	}
	c := s.newClient(t, s.InetURL)
	t.Cleanup(c.Close)
	return c
}

func (s *Server) newClient(t testing.TB, url string) *supervisor.Client {
	t.Helper()
	c, err := supervisor.New(supervisor.Config{URL: url, Username: s.Username, Password: s.Password, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("supervisortest: %v", err)
	}
	return c
}

// WaitProcessState polls getProcessInfo until the process named name
// ("group:name") is in state want, failing the test after WaitTimeout. It
// returns the last ProcessInfo.
func (s *Server) WaitProcessState(t testing.TB, name string, want supervisor.ProcessState) supervisor.ProcessInfo {
	t.Helper()
	c := s.newClient(t, s.URL)
	defer c.Close()
	var info supervisor.ProcessInfo
	testsupport.Eventually(t, WaitTimeout, fmt.Sprintf("supervisortest: process %s to be %v", name, want), func() (bool, string) {
		var err error
		info, err = c.GetProcessInfo(context.Background(), name)
		if err != nil {
			return false, err.Error()
		}
		return info.State == want, fmt.Sprintf("%v (spawnerr %q)", info.State, info.SpawnErr)
	})
	return info
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("pick a free port: unexpected address %v", l.Addr())
	}
	return addr.Port, nil
}
