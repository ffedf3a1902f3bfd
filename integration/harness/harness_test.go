package harness

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

const wait = 20 * time.Second

// pidAlive reports whether pid runs (and is not a zombie).
func pidAlive(pid int) bool {
	p, err := readProc(pid)
	return err == nil && p.alive()
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	for _, b := range []Backend{RealSupervisord, GoSupervisord} {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			s := Start(t, Options{Backend: b, Sections: `
[program:sleeper]
command=sleep 1000
stderr_logfile={{.Dir}}/sleeper.err
`})
			info := s.WaitProcessState(t, "sleeper", supervisor.ProcessRunning, wait)
			if !pidAlive(s.PID) || !pidAlive(info.PID) {
				t.Fatalf("supervisord %d or sleeper %d not running", s.PID, info.PID)
			}
			if got, err := s.StderrPath("sleeper"); err != nil || got != s.Path("sleeper.err") {
				t.Errorf("StderrPath = %q, %v; want %q", got, err, s.Path("sleeper.err"))
			}
			s.Stop(t)
			s.Stop(t) // idempotent
			for _, pid := range []int{s.PID, info.PID} {
				if pidAlive(pid) {
					t.Errorf("pid %d still alive after Stop", pid)
				}
			}
		})
	}
}

// TestStopKillsEscapedDescendant: a grandchild in its own session survives
// supervisord's shutdown; the harness must kill it.
func TestStopKillsEscapedDescendant(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Sections: `
[program:escaper]
command=sh -c 'setsid sleep 1000 & echo $! > {{.Dir}}/grandchild.pid; exec sleep 1000'
stopwaitsecs=5
`})
	s.WaitProcessState(t, "escaper", supervisor.ProcessRunning, wait)
	var gc int
	testsupport.Eventually(t, wait, "grandchild pid file", func() (bool, string) {
		b, err := os.ReadFile(s.Path("grandchild.pid"))
		gc, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && gc > 0, fmt.Sprint(err)
	})
	if !pidAlive(gc) {
		t.Fatalf("grandchild %d not running", gc)
	}
	s.Stop(t)
	testsupport.Eventually(t, 5*time.Second, "grandchild to die", func() (bool, string) {
		return !pidAlive(gc), fmt.Sprintf("pid %d alive", gc)
	})
	if len(s.survivors) != 1 || s.survivors[0].PID != gc {
		t.Errorf("survivors = %+v, want just the grandchild %d", s.survivors, gc)
	}
}

func TestLongTestNameGetsShortSocketPath(t *testing.T) {
	t.Parallel()
	t.Run(strings.Repeat("a_very_long_subtest_name_", 6), func(t *testing.T) {
		s := Start(t, Options{})
		if len(s.Socket) > 80 {
			t.Errorf("socket path %q is %d bytes", s.Socket, len(s.Socket))
		}
		if strings.Contains(s.Dir, "a_very_long") {
			t.Errorf("scenario dir %q is the long t.TempDir()", s.Dir)
		}
	})
}

// TestProblemsSeeUnknownState: a listener that writes junk after READY is
// put in UNKNOWN state while its process state stays RUNNING; only the log
// shows it.
func TestProblemsSeeUnknownState(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{
		Tolerate: []Problem{ProblemUnknownState, ProblemBadResult, ProblemRejected},
		Sections: `
[eventlistener:junk]
command=sh -c 'printf "READY\n"; sleep 0.5; printf "junk\n"; exec sleep 1000'
events=PROCESS_STATE,TICK_5
stdout_logfile=NONE
stderr_logfile={{.Dir}}/junk.err
`})
	s.WaitLog(t, string(ProblemUnknownState), wait)
	if info := s.WaitProcessState(t, "junk", supervisor.ProcessRunning, wait); info.State != supervisor.ProcessRunning {
		t.Errorf("junk state = %v", info.State)
	}
	if lines := s.ProblemLines()[ProblemUnknownState]; len(lines) == 0 || !strings.Contains(lines[0], "junk:") {
		t.Errorf("ProblemLines[UNKNOWN state] = %q", lines)
	}
}

func TestConfTemplateAndFiles(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{
		ConfTemplate: `
[unix_http_server]
file=%(here)s/run/sg.sock

[supervisord]
logfile={{.Dir}}/log/supervisord.log
pidfile={{.Dir}}/run/supervisord.pid
childlogdir={{.Dir}}/log/children

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[include]
files = conf.d/*.conf
`,
		Files: map[string]string{"conf.d/sleeper.conf": "[program:sleeper]\ncommand=sleep 1000\nstderr_logfile={{.Dir}}/log/sleeper.err\n"},
	})
	if s.Socket != s.Path("run", "sg.sock") || s.LogPath != s.Path("log", "supervisord.log") {
		t.Errorf("Socket = %q, LogPath = %q", s.Socket, s.LogPath)
	}
	s.WaitProcessState(t, "sleeper", supervisor.ProcessRunning, wait)
	s.WaitLog(t, `success: sleeper entered RUNNING`, wait)
	if _, err := os.Stat(s.Path("log", "children")); err != nil {
		t.Errorf("childlogdir not created: %v", err)
	}
}

func TestBinBuildsOnce(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	paths := make([]string, 4)
	for i := range paths {
		wg.Go(func() { paths[i] = Bin(t, "./integration/cmd/fakestrategy") })
	}
	wg.Wait()
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Fatalf("Bin paths differ: %q", paths)
		}
	}
	out, err := exec.Command(paths[0], "-exit-after", "1ms", "-exit-code", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", paths[0], err, out)
	}
}

// recordingTB captures Logf output of the failure report.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	logs []string
}

func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func TestFailureReport(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Sections: `
[program:talker]
command=sh -c 'echo "talker says hello" >&2; exec sleep 1000'
stderr_logfile={{.Dir}}/talker.err
`})
	s.WaitListenerLog(t, "talker", "talker says hello", wait)
	s.Stop(t)
	rec := &recordingTB{TB: t}
	s.report(rec)
	all := strings.Join(rec.logs, "\n")
	for _, want := range []string{"[program:talker]", "--- supervisord log", "spawned: 'talker'", "--- stderr of talker", "talker says hello"} {
		if !strings.Contains(all, want) {
			t.Errorf("report lacks %q:\n%s", want, all)
		}
	}
}

func TestSignal(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Sections: `
[program:victim]
command=sleep 1000
autorestart=false
`})
	s.WaitProcessState(t, "victim", supervisor.ProcessRunning, wait)
	pid := s.Signal(t, "victim", syscall.SIGKILL)
	info := s.WaitProcessState(t, "victim", supervisor.ProcessExited, wait)
	if pidAlive(pid) || info.PID != 0 {
		t.Errorf("victim pid %d alive after SIGKILL (info %+v)", pid, info)
	}
}
