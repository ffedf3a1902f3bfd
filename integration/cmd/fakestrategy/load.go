package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Load a memory/CPU/descriptor guard can see: child processes that grow
// their own memory (-children), a busy core (-spin) and many open files
// under a chosen RLIMIT_NOFILE (-nofile, -open-fds).

// children are the child processes spawned by -children.
type children struct {
	procs []*exec.Cmd
	wg    sync.WaitGroup // one reaper per child
}

// startChildren spawns cfg.Children copies of this binary, each running
// quietly as "<name>-child-<i>" and growing its memory by ChildGrowRate up
// to ChildGrowLimit. They are real children (their parent pid is ours), die
// with us (Pdeathsig on Linux, and kill on a normal exit), and get none of
// our FAKESTRATEGY_* environment, so they spawn no children of their own and
// serve, beat and log nothing. On an error the children already started are
// killed.
func (s *strategy) startChildren() (*children, error) {
	c := &children{}
	if s.cfg.Children == 0 {
		return c, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("children: %w", err)
	}
	env := childEnv(os.Environ())
	for i := range s.cfg.Children {
		name, args := s.cfg.childArgs(i)
		cmd := exec.Command(exe, args...)
		cmd.Env = env
		cmd.Stdout = nil // never into our PROCESS_COMMUNICATION stream
		cmd.Stderr = s.childStderr()
		cmd.SysProcAttr = childSysProcAttr()
		if err := cmd.Start(); err != nil {
			c.kill()
			return nil, fmt.Errorf("child %s: %w", name, err)
		}
		s.diag("child started", "name", name, "pid", strconv.Itoa(cmd.Process.Pid))
		c.procs = append(c.procs, cmd)
		c.wg.Add(1)
		go func() { // reap it, so a child a guard kills does not linger as a zombie
			defer c.wg.Done()
			err := cmd.Wait()
			s.diag("child exited", "name", name, "pid", strconv.Itoa(cmd.Process.Pid), "status", exitStatus(err))
		}()
	}
	return c, nil
}

// childArgs is the name and command line (without the program) of child i.
func (c Config) childArgs(i int) (name string, args []string) {
	name = fmt.Sprintf("%s-child-%d", c.Name, i)
	return name, []string{
		"-name", name,
		"-grow-rate", strconv.FormatInt(c.ChildGrowRate, 10),
		"-grow-limit", strconv.FormatInt(c.ChildGrowLimit, 10),
	}
}

// kill kills every child still running and waits until all are reaped.
func (c *children) kill() {
	if c == nil {
		return
	}
	for _, cmd := range c.procs {
		_ = cmd.Process.Kill() // fails only for one already reaped
	}
	c.wg.Wait()
}

// childEnv is env without any FAKESTRATEGY_* variable: a child must not
// inherit -children (spawning children itself), the health server,
// heartbeats or logs.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, EnvPrefix) {
			out = append(out, kv)
		}
	}
	return out
}

// childStderr is where children's diagnostics go: our stderr itself when it
// is a file (they write it directly, and it outlives us), else a writer
// that takes our output lock per write.
func (s *strategy) childStderr() io.Writer {
	if f, ok := s.stderr.(*os.File); ok {
		return f
	}
	return writerFunc(func(p []byte) (int, error) {
		s.outMu.Lock()
		defer s.outMu.Unlock()
		return s.stderr.Write(p)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// spinSink keeps the busy loop's result observable, so the compiler cannot
// drop the loop.
var spinSink atomic.Uint64

// spinBatch is how many rounds the busy loop runs between looks at stop.
const spinBatch = 1 << 16

// spin burns one core until stop is closed, hung or not.
func spin(stop <-chan struct{}) {
	x := uint64(time.Now().UnixNano()) | 1
	for {
		for range spinBatch { // a 64-bit LCG: cheap, and each round needs the last
			x = x*6364136223846793005 + 1442695040888963407
		}
		spinSink.Store(x)
		select {
		case <-stop:
			return
		default:
		}
	}
}

// startSpin starts the -spin goroutine; it stops after SpinFor (if set) or
// when done is closed.
func (s *strategy) startSpin(done <-chan struct{}) {
	stop := make(chan struct{})
	go func() {
		defer close(stop)
		select {
		case <-timerC(s.cfg.SpinFor):
			s.diag("spin stopped", "after", s.cfg.SpinFor.String())
		case <-done:
		}
	}()
	s.diag("spinning", "for", s.cfg.SpinFor.String())
	go spin(stop)
}

// setNoFile sets the soft RLIMIT_NOFILE to n, which must not exceed the
// hard limit.
func (s *strategy) setNoFile(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("nofile: %w", err)
	}
	if uint64(n) > lim.Max {
		return fmt.Errorf("nofile %d exceeds the hard limit %d", n, lim.Max)
	}
	lim.Cur = uint64(n)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("nofile %d: %w", n, err)
	}
	s.diag("nofile set", "soft", strconv.Itoa(n), "hard", strconv.FormatUint(lim.Max, 10))
	return nil
}

// openFiles opens /dev/null n times and returns the files, stopping at the
// first error (EMFILE once the soft limit is reached), which it returns with
// the files opened so far.
func openFiles(n int) ([]*os.File, error) {
	files := make([]*os.File, 0, n)
	for range n {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}

// openFDs opens OpenFDs extra descriptors, or as many as the limit allows,
// saying which in the diagnostics.
func (s *strategy) openFDs() []*os.File {
	files, err := openFiles(s.cfg.OpenFDs)
	if err == nil {
		s.diag("opened fds", "count", strconv.Itoa(len(files)))
		return files
	}
	kv := []string{"wanted", strconv.Itoa(s.cfg.OpenFDs), "opened", strconv.Itoa(len(files))}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		kv = append(kv, "soft-limit", strconv.FormatUint(lim.Cur, 10))
	}
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		err = pe.Err
	}
	s.diag("opened fewer fds than asked", append(kv, "error", strconv.Quote(err.Error()))...)
	return files
}

// closeFiles closes files opened by openFDs.
func closeFiles(files []*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

// startLoad is the part of Run's start-up that sets up the load, in order:
// the descriptor limit, the children, the spin, and last the extra
// descriptors (so that they can fill the table up to the limit without
// starving the start-up). It returns a function that undoes it all: stops
// the spin, kills and reaps the children and closes the descriptors.
func (s *strategy) startLoad() (stop func(), err error) {
	if s.cfg.NoFile > 0 {
		if err := s.setNoFile(s.cfg.NoFile); err != nil {
			return nil, err
		}
	}
	kids, err := s.startChildren()
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	if s.cfg.Spin {
		s.startSpin(done)
	}
	var files []*os.File
	if s.cfg.OpenFDs > 0 {
		files = s.openFDs()
	}
	return func() {
		close(done)
		kids.kill()
		closeFiles(files)
	}, nil
}
