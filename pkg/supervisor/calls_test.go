package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
	"github.com/superguard/superguard/pkg/supervisor/supervisortest"
)

// stubbornConf returns programs that ignore SIGTERM (the ignored
// disposition survives exec) and take a minute to be killed by supervisord.
// Tests kill them by PID before supervisortest stops supervisord.
func stubbornConf(names ...string) string {
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "[program:%s]\ncommand=sh -c 'trap \"\" TERM; echo ready; exec sleep 1000'\nstartsecs=0\nstopwaitsecs=60\n\n", name)
	}
	return b.String()
}

// waitStubborn waits until a stubbornConf program has set its trap.
func waitStubborn(t *testing.T, srv *supervisortest.Server, names ...string) {
	t.Helper()
	for _, name := range names {
		srv.WaitProcessState(t, name, supervisor.ProcessRunning)
		waitTail(t, srv.Client(t), name, "ready\n")
	}
}

// killProcess SIGKILLs a supervised process by its PID so that supervisord,
// which is waiting for it to stop, sees it exit.
func killProcess(t *testing.T, srv *supervisortest.Server, c *supervisor.Client, name string) {
	t.Helper()
	p, err := c.GetProcessInfo(ctx(t, 5*time.Second), name)
	if err != nil {
		t.Fatalf("GetProcessInfo(%s): %v", name, err)
	}
	if p.PID > 0 {
		if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %s pid %d: %v", name, p.PID, err)
		}
	}
	srv.WaitProcessState(t, name, supervisor.ProcessStopped)
}

func TestWaitingCallDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	srv := supervisortest.Start(t, stubbornConf("stubborn1"))
	waitStubborn(t, srv, "stubborn1")
	c := srv.Client(t)

	stopCtx, cancelStop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelStop()
	done := make(chan error, 1)
	go func() { done <- c.StopProcess(stopCtx, "stubborn1", true) }()

	// The stop is inside supervisord, which waits up to stopwaitsecs=60.
	srv.WaitProcessState(t, "stubborn1", supervisor.ProcessStopping)

	// Other calls on the same Client answer meanwhile; each is bounded
	// by 5s, far below the 60s the stop is waiting for.
	for i := range 5 {
		st, err := c.GetState(ctx(t, 5*time.Second))
		if err != nil || st.Code != supervisor.SupervisorRunning {
			t.Fatalf("GetState #%d during a waiting stop = %+v, %v", i, st, err)
		}
		if _, err := c.GetAllProcessInfo(ctx(t, 5*time.Second)); err != nil {
			t.Fatalf("GetAllProcessInfo #%d during a waiting stop: %v", i, err)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("StopProcess(wait) returned before the process stopped: %v", err)
	default:
	}

	// Cancelling the context aborts the waiting call.
	cancelStop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("StopProcess after cancel = %v, want context.Canceled", err)
		}
		if err != nil && !strings.Contains(err.Error(), srv.URL) {
			t.Errorf("error %q does not name %s", err, srv.URL)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("StopProcess did not return after its context was cancelled")
	}
	killProcess(t, srv, c, "stubborn1")
}

func TestDeadlines(t *testing.T) {
	t.Parallel()
	srv := supervisortest.Start(t, stubbornConf("stubborn2", "stubborn3"))
	waitStubborn(t, srv, "stubborn2", "stubborn3")
	tests := []struct {
		name    string
		process string
		timeout time.Duration // Config.Timeout
		ctx     func() (context.Context, context.CancelFunc)
		wantMsg string
	}{
		{
			name: "context deadline", process: "stubborn2", timeout: time.Minute,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 300*time.Millisecond)
			},
			wantMsg: "supervisor.stopProcess: context deadline exceeded",
		},
		{
			name: "config timeout", process: "stubborn3", timeout: 300 * time.Millisecond,
			ctx:     func() (context.Context, context.CancelFunc) { return context.Background(), func() {} },
			wantMsg: "supervisor.stopProcess: no answer within 300ms: context deadline exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := supervisor.New(supervisor.Config{URL: srv.URL, Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			callCtx, cancel := tt.ctx()
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.StopProcess(callCtx, tt.process, true) }()
			var err2 error
			select {
			case err2 = <-done:
			case <-time.After(30 * time.Second): // stopwaitsecs is 60
				t.Fatalf("StopProcess ignored its deadline")
			}
			if !errors.Is(err2, context.DeadlineExceeded) {
				t.Fatalf("StopProcess = %v, want context.DeadlineExceeded", err2)
			}
			want := "supervisord " + srv.URL + ": " + tt.wantMsg
			if err2.Error() != want {
				t.Errorf("error = %q, want %q", err2, want)
			}
			killProcess(t, srv, srv.Client(t), tt.process)
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	const (
		user   = "sg"
		canary = "canary-S3cr3t-Pw-7f1c"
		wrong  = "wrong-Pw-9d2e"
	)
	srv := supervisortest.StartWith(t, supervisortest.Options{Username: user, Password: canary, Inet: true})
	dir := t.TempDir()
	rightFile := filepath.Join(dir, "right")
	wrongFile := filepath.Join(dir, "wrong")
	if err := os.WriteFile(rightFile, []byte(canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrongFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := []struct {
		name      string
		cfg       supervisor.Config
		wantError bool
	}{
		{"password", supervisor.Config{Username: user, Password: canary}, false},
		{"password file", supervisor.Config{Username: user, PasswordFile: rightFile}, false},
		{"password file wins", supervisor.Config{Username: user, Password: wrong, PasswordFile: rightFile}, false},
		{"wrong password", supervisor.Config{Username: user, Password: wrong}, true},
		{"wrong password file", supervisor.Config{Username: user, PasswordFile: wrongFile}, true},
		{"wrong username", supervisor.Config{Username: "nobody", Password: canary}, true},
		{"no credentials", supervisor.Config{}, true},
	}
	for _, server := range []struct{ name, url, display string }{
		{"unix", srv.URL, srv.URL},
		{"inet", srv.InetURL, srv.InetURL + "/RPC2"},
	} {
		for _, cr := range creds {
			t.Run(server.name+"/"+cr.name, func(t *testing.T) {
				cfg := cr.cfg
				cfg.URL = server.url
				c, err := supervisor.New(cfg)
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				defer c.Close()
				if c.URL() != server.display {
					t.Errorf("URL() = %q, want %q", c.URL(), server.display)
				}
				_, err = c.GetState(ctx(t, 5*time.Second))
				if !cr.wantError {
					if err != nil {
						t.Fatalf("GetState: %v", err)
					}
					return
				}
				if !errors.Is(err, supervisor.ErrUnauthorized) {
					t.Fatalf("GetState = %v, want ErrUnauthorized", err)
				}
				var he *supervisor.HTTPError
				if !errors.As(err, &he) || he.StatusCode != 401 {
					t.Errorf("GetState = %#v, want *HTTPError 401", err)
				}
				msg := err.Error()
				want := fmt.Sprintf("supervisord %s: supervisor.getState: http 401 Unauthorized: wrong or missing username or password", server.display)
				if msg != want {
					t.Errorf("error = %q, want %q", msg, want)
				}
				for _, secret := range []string{canary, wrong} {
					if strings.Contains(msg, secret) {
						t.Errorf("error %q contains a password", msg)
					}
				}
			})
		}
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the socket file stays, as after a supervisord killed with -9
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := tcp.Addr().String()
	tcp.Close()

	const canary = "canary-Unreach-Pw-31ab"
	tests := []struct {
		name    string
		url     string
		display string
		errno   error
	}{
		{"missing socket", "unix://" + filepath.Join(dir, "none.sock"), "unix://" + filepath.Join(dir, "none.sock"), syscall.ENOENT},
		{"stale socket", "unix://" + stale, "unix://" + stale, syscall.ECONNREFUSED},
		{"closed port", "http://" + closedPort, "http://" + closedPort + "/RPC2", syscall.ECONNREFUSED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := supervisor.New(supervisor.Config{URL: tt.url, Username: "sg", Password: canary})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer c.Close()
			_, err = c.GetState(ctx(t, 5*time.Second))
			if !errors.Is(err, tt.errno) {
				t.Fatalf("GetState = %v, want %v", err, tt.errno)
			}
			prefix := "supervisord " + tt.display + ": supervisor.getState: "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error = %q, want prefix %q", err, prefix)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

// The test sets the environment: it cannot run in parallel.
func TestConfigFromEnvUnderSupervisord(t *testing.T) {
	const canary = "canary-Env-Pw-55d0"
	srv := supervisortest.StartWith(t, supervisortest.Options{
		Username: "sg",
		Password: canary,
		Conf: `
[program:envdump]
command=sh -c 'echo "$SUPERVISOR_SERVER_URL $SUPERVISOR_USERNAME ${#SUPERVISOR_PASSWORD}"; exec sleep 1000'
startsecs=0
environment=SUPERVISOR_USERNAME="sg",SUPERVISOR_PASSWORD="` + canary + `"
`,
	})
	srv.WaitProcessState(t, "envdump", supervisor.ProcessRunning)
	want := fmt.Sprintf("%s sg %d\n", srv.URL, len(canary))
	waitTail(t, srv.Client(t), "envdump", want)

	// What a listener run by that supervisord sees.
	t.Setenv(supervisor.EnvServerURL, srv.URL)
	t.Setenv(supervisor.EnvUsername, "sg")
	t.Setenv(supervisor.EnvPassword, canary)
	t.Setenv(supervisor.EnvPasswordFile, "")
	cfg := supervisor.ConfigFromEnv()
	c, err := supervisor.New(cfg)
	if err != nil {
		t.Fatalf("New(ConfigFromEnv()): %v", err)
	}
	defer c.Close()
	if _, err := c.GetState(ctx(t, 5*time.Second)); err != nil {
		t.Fatalf("GetState: %v", err)
	}
}

// listenerScript is a minimal REMOTE_COMMUNICATION eventlistener that copies
// each payload to its stderr log.
const listenerScript = `import sys
while True:
    sys.stdout.write("READY\n"); sys.stdout.flush()
    header = dict(tok.split(":", 1) for tok in sys.stdin.readline().split())
    payload = sys.stdin.read(int(header["len"]))
    sys.stderr.write(payload + "\n"); sys.stderr.flush()
    sys.stdout.write("RESULT 2\nOK"); sys.stdout.flush()
`

func TestSendRemoteCommEvent(t *testing.T) {
	t.Parallel()
	script := filepath.Join(t.TempDir(), "listener.py")
	if err := os.WriteFile(script, []byte(listenerScript), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := supervisortest.Start(t, fmt.Sprintf(`
[eventlistener:tap]
command=python3 -u %s
events=REMOTE_COMMUNICATION
startsecs=0
`, script))
	srv.WaitProcessState(t, "tap", supervisor.ProcessRunning)
	c := srv.Client(t)
	if err := c.SendRemoteCommEvent(ctx(t, 5*time.Second), "superguard.test", "hello wörld"); err != nil {
		t.Fatalf("SendRemoteCommEvent: %v", err)
	}
	waitTail(t, c, "tap", "type:superguard.test\nhello wörld\n", stderr())
}

func TestShutdownState(t *testing.T) {
	t.Parallel()
	srv := supervisortest.Start(t, stubbornConf("stubborn1"))
	waitStubborn(t, srv, "stubborn1")
	c := srv.Client(t)
	info, err := c.GetProcessInfo(ctx(t, 5*time.Second), "stubborn1")
	if err != nil {
		t.Fatal(err)
	}
	// supervisord now waits up to stopwaitsecs for stubborn1 before exiting.
	if err := syscall.Kill(srv.PID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var last error
	testsupport.WaitFor(t, waitTimeout, "SHUTDOWN_STATE", func() bool {
		_, last = c.GetState(ctx(t, 5*time.Second))
		return supervisor.IsFault(last, supervisor.FaultShutdownState)
	})
	var f *supervisor.Fault
	if !errors.As(last, &f) || f.Name != "SHUTDOWN_STATE" || f.Detail != "" {
		t.Errorf("fault = %#v, want SHUTDOWN_STATE without detail", f)
	}
	if err := c.SendRemoteCommEvent(ctx(t, 5*time.Second), "superguard.test", "still accepted"); err != nil {
		t.Errorf("SendRemoteCommEvent during shutdown: %v", err)
	}
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, waitTimeout, "supervisord to exit", srv.Exited)
}

// TestReloadDropsPooledConnections checks that a pooled keep-alive connection
// that supervisord closed (here by a reload, SIGHUP) does not make the next
// call fail.
func TestReloadDropsPooledConnections(t *testing.T) {
	t.Parallel()
	srv := supervisortest.Start(t, "")
	c := srv.Client(t)
	for range 3 {
		if _, err := c.GetState(ctx(t, 5*time.Second)); err != nil {
			t.Fatalf("GetState: %v", err)
		}
	}
	if err := syscall.Kill(srv.PID, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testsupport.WaitFor(t, waitTimeout, "supervisord to reload", func() bool {
		return strings.Count(srv.Log(), "supervisord started with pid") == 2
	})
	// A fresh client proves the new socket answers...
	fresh, err := supervisor.New(supervisor.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	testsupport.WaitFor(t, waitTimeout, "the reloaded supervisord to answer", func() bool {
		st, err := fresh.GetState(ctx(t, 5*time.Second))
		return err == nil && st.Code == supervisor.SupervisorRunning
	})
	// ...and then the old client must succeed at once.
	if _, err := c.GetState(ctx(t, 5*time.Second)); err != nil {
		t.Errorf("GetState on a client with pre-reload connections: %v", err)
	}
}
