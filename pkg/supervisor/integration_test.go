package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
	"github.com/superguard/superguard/pkg/supervisor/supervisortest"
)

// baseConf is the set of programs most tests run against.
const baseConf = `
[program:sleeper]
command=sleep 1000
startsecs=0
stopwaitsecs=5

[program:a]
command=sleep 1000
startsecs=0

[program:b]
command=sleep 1000
startsecs=0

[group:grp]
programs=a,b

[program:failer]
command=sh -c 'echo failing >&2; exit 3'
autostart=false
autorestart=false
startsecs=10
startretries=0

[program:missing]
command=/nonexistent/superguard-test-binary
autostart=false

[program:talker]
command=sh -c 'echo hello; echo oops >&2; trap "echo got-hup" HUP; while :; do sleep 0.1; done'
startsecs=0
stopasgroup=true
killasgroup=true

[program:quiet]
command=sleep 1000
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE
`

// ctx returns a context bounded by the test's deadline budget for one step.
func ctx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// startBase starts a supervisord running baseConf and waits for its
// autostarted programs.
func startBase(t *testing.T) (*supervisortest.Server, *supervisor.Client) {
	t.Helper()
	srv := supervisortest.Start(t, baseConf)
	for _, name := range []string{"sleeper:sleeper", "grp:a", "grp:b", "talker:talker", "quiet:quiet"} {
		srv.WaitProcessState(t, name, supervisor.ProcessRunning)
	}
	return srv, srv.Client(t)
}

func TestGetStateAndPID(t *testing.T) {
	t.Parallel()
	srv, c := startBase(t)
	st, err := c.GetState(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatalf("GetState: %v", err)
	}
	if want := (supervisor.State{Code: supervisor.SupervisorRunning, Name: "RUNNING"}); st != want {
		t.Errorf("GetState = %+v, want %+v", st, want)
	}
	pid, err := c.GetPID(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatalf("GetPID: %v", err)
	}
	if pid != srv.PID {
		t.Errorf("GetPID = %d, want %d", pid, srv.PID)
	}
	if got, want := c.URL(), srv.URL; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
}

func TestGetAllProcessInfo(t *testing.T) {
	t.Parallel()
	srv, c := startBase(t)
	infos, err := c.GetAllProcessInfo(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatalf("GetAllProcessInfo: %v", err)
	}
	byName := map[string]supervisor.ProcessInfo{}
	for _, p := range infos {
		byName[p.FullName()] = p
	}
	want := map[string]supervisor.ProcessState{
		"sleeper:sleeper": supervisor.ProcessRunning,
		"grp:a":           supervisor.ProcessRunning,
		"grp:b":           supervisor.ProcessRunning,
		"failer:failer":   supervisor.ProcessStopped,
		"missing:missing": supervisor.ProcessStopped,
		"talker:talker":   supervisor.ProcessRunning,
		"quiet:quiet":     supervisor.ProcessRunning,
	}
	if len(infos) != len(want) {
		t.Errorf("GetAllProcessInfo returned %d processes, want %d: %+v", len(infos), len(want), infos)
	}
	for name, state := range want {
		t.Run(name, func(t *testing.T) {
			p, ok := byName[name]
			if !ok {
				t.Fatalf("process %s missing", name)
			}
			if p.State != state || p.StateName != state.String() {
				t.Errorf("state = %v (%q), want %v", p.State, p.StateName, state)
			}
			if p.Now.IsZero() {
				t.Errorf("Now is zero")
			}
			running := state == supervisor.ProcessRunning
			if running != (p.PID > 0) {
				t.Errorf("PID = %d in state %v", p.PID, p.State)
			}
			if running != !p.Start.IsZero() {
				t.Errorf("Start = %v in state %v", p.Start, p.State)
			}
			if !p.Stop.IsZero() {
				t.Errorf("Stop = %v for a process never stopped", p.Stop)
			}
			if running && p.Now.Before(p.Start) {
				t.Errorf("Now %v before Start %v", p.Now, p.Start)
			}
			if !running && p.Description != "Not started" {
				t.Errorf("Description = %q, want %q", p.Description, "Not started")
			}
			if name != "quiet:quiet" && filepath.Dir(p.StdoutLogfile) != srv.Dir {
				t.Errorf("StdoutLogfile = %q, want a file in %s", p.StdoutLogfile, srv.Dir)
			}
		})
	}
}

func TestGetProcessInfo(t *testing.T) {
	t.Parallel()
	_, c := startBase(t)
	tests := []struct {
		name      string
		wantName  string
		wantGroup string
		wantFault int
	}{
		{name: "sleeper", wantName: "sleeper", wantGroup: "sleeper"},
		{name: "sleeper:sleeper", wantName: "sleeper", wantGroup: "sleeper"},
		{name: "grp:a", wantName: "a", wantGroup: "grp"},
		{name: "nope", wantFault: supervisor.FaultBadName},
		{name: "grp:nope", wantFault: supervisor.FaultBadName},
		{name: "a", wantFault: supervisor.FaultBadName}, // grouped programs need their group
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.GetProcessInfo(ctx(t, 5*time.Second), tt.name)
			if tt.wantFault != 0 {
				assertFault(t, err, tt.wantFault, tt.name)
				return
			}
			if err != nil {
				t.Fatalf("GetProcessInfo(%q): %v", tt.name, err)
			}
			if p.Name != tt.wantName || p.Group != tt.wantGroup || p.State != supervisor.ProcessRunning {
				t.Errorf("GetProcessInfo(%q) = %s/%s %v, want %s/%s RUNNING", tt.name, p.Group, p.Name, p.State, tt.wantGroup, tt.wantName)
			}
			if !strings.HasPrefix(p.Description, "pid ") {
				t.Errorf("Description = %q, want pid and uptime", p.Description)
			}
		})
	}
}

// assertFault fails unless err is a *Fault with the given code whose Name
// matches the code and whose Detail contains detail.
func assertFault(t *testing.T, err error, code int, detail string) {
	t.Helper()
	var f *supervisor.Fault
	if !errors.As(err, &f) {
		t.Fatalf("error = %v, want a *Fault with code %d", err, code)
	}
	if f.Code != code || f.Name != supervisor.FaultName(code) {
		t.Errorf("fault = %+v, want code %d (%s)", f, code, supervisor.FaultName(code))
	}
	if !strings.Contains(f.Detail, detail) {
		t.Errorf("fault detail = %q, want it to contain %q", f.Detail, detail)
	}
	if !supervisor.IsFault(err, code) {
		t.Errorf("IsFault(err, %d) = false", code)
	}
}

func TestStartStopProcess(t *testing.T) {
	t.Parallel()
	srv, c := startBase(t)
	// The steps depend on each other: they run in order on one supervisord.
	steps := []struct {
		name      string
		do        func(context.Context) error
		wantFault int
		wantState supervisor.ProcessState
		process   string
	}{
		{"stop running", func(ctx context.Context) error { return c.StopProcess(ctx, "sleeper", true) }, 0, supervisor.ProcessStopped, "sleeper"},
		{"stop stopped", func(ctx context.Context) error { return c.StopProcess(ctx, "sleeper", true) }, supervisor.FaultNotRunning, supervisor.ProcessStopped, "sleeper"},
		{"start stopped", func(ctx context.Context) error { return c.StartProcess(ctx, "sleeper:sleeper", true) }, 0, supervisor.ProcessRunning, "sleeper"},
		{"start running", func(ctx context.Context) error { return c.StartProcess(ctx, "sleeper", true) }, supervisor.FaultAlreadyStarted, supervisor.ProcessRunning, "sleeper"},
		{"start exits at once", func(ctx context.Context) error { return c.StartProcess(ctx, "failer", true) }, supervisor.FaultSpawnError, supervisor.ProcessFatal, "failer"},
		{"start missing command", func(ctx context.Context) error { return c.StartProcess(ctx, "missing", true) }, supervisor.FaultNoFile, supervisor.ProcessStopped, "missing"},
		{"start unknown", func(ctx context.Context) error { return c.StartProcess(ctx, "nope", false) }, supervisor.FaultBadName, 0, ""},
		{"stop unknown", func(ctx context.Context) error { return c.StopProcess(ctx, "grp:nope", false) }, supervisor.FaultBadName, 0, ""},
		{"stop no wait", func(ctx context.Context) error { return c.StopProcess(ctx, "grp:a", false) }, 0, supervisor.ProcessStopped, "grp:a"},
		{"start no wait", func(ctx context.Context) error { return c.StartProcess(ctx, "grp:a", false) }, 0, supervisor.ProcessRunning, "grp:a"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.do(ctx(t, 10*time.Second))
			if st.wantFault != 0 {
				if !supervisor.IsFault(err, st.wantFault) {
					t.Fatalf("error = %v, want fault %s", err, supervisor.FaultName(st.wantFault))
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if st.process != "" {
				srv.WaitProcessState(t, st.process, st.wantState)
			}
		})
	}
	p, err := c.GetProcessInfo(ctx(t, 5*time.Second), "failer")
	if err != nil {
		t.Fatalf("GetProcessInfo(failer): %v", err)
	}
	if p.SpawnErr == "" || p.Stop.IsZero() || p.Start.IsZero() {
		t.Errorf("FATAL failer: SpawnErr %q Start %v Stop %v, want all set", p.SpawnErr, p.Start, p.Stop)
	}
}

func TestProcessGroups(t *testing.T) {
	t.Parallel()
	srv, c := startBase(t)
	ok := []supervisor.ProcessStatus{
		{Name: "a", Group: "grp", Status: supervisor.FaultSuccess, Description: "OK"},
		{Name: "b", Group: "grp", Status: supervisor.FaultSuccess, Description: "OK"},
	}
	steps := []struct {
		name      string
		do        func(context.Context) ([]supervisor.ProcessStatus, error)
		want      []supervisor.ProcessStatus
		wantFault int
		wantState supervisor.ProcessState
	}{
		{"signal running", func(ctx context.Context) ([]supervisor.ProcessStatus, error) {
			return c.SignalProcessGroup(ctx, "grp", "CONT")
		}, ok, 0, supervisor.ProcessRunning},
		{"stop running", func(ctx context.Context) ([]supervisor.ProcessStatus, error) {
			return c.StopProcessGroup(ctx, "grp", true)
		}, ok, 0, supervisor.ProcessStopped},
		{"stop stopped", func(ctx context.Context) ([]supervisor.ProcessStatus, error) {
			return c.StopProcessGroup(ctx, "grp", true)
		}, []supervisor.ProcessStatus{}, 0, supervisor.ProcessStopped},
		{"signal stopped", func(ctx context.Context) ([]supervisor.ProcessStatus, error) {
			return c.SignalProcessGroup(ctx, "grp", "HUP")
		}, []supervisor.ProcessStatus{}, 0, supervisor.ProcessStopped},
		{"start stopped", func(ctx context.Context) ([]supervisor.ProcessStatus, error) {
			return c.StartProcessGroup(ctx, "grp", true)
		}, ok, 0, supervisor.ProcessRunning},
		{"start running", func(ctx context.Context) ([]supervisor.ProcessStatus, error) {
			return c.StartProcessGroup(ctx, "grp", true)
		}, []supervisor.ProcessStatus{}, 0, supervisor.ProcessRunning},
		{"unknown group", func(ctx context.Context) ([]supervisor.ProcessStatus, error) {
			return c.StopProcessGroup(ctx, "nogroup", false)
		}, nil, supervisor.FaultBadName, supervisor.ProcessRunning},
		// Per-process failures are inline statuses, not a fault.
		{"bad signal", func(ctx context.Context) ([]supervisor.ProcessStatus, error) {
			return c.SignalProcessGroup(ctx, "grp", "NOSUCHSIG")
		}, []supervisor.ProcessStatus{
			{Name: "a", Group: "grp", Status: supervisor.FaultBadSignal, Description: "BAD_SIGNAL: NOSUCHSIG"},
			{Name: "b", Group: "grp", Status: supervisor.FaultBadSignal, Description: "BAD_SIGNAL: NOSUCHSIG"},
		}, 0, supervisor.ProcessRunning},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := st.do(ctx(t, 10*time.Second))
			if st.wantFault != 0 {
				if !supervisor.IsFault(err, st.wantFault) {
					t.Fatalf("error = %v, want fault %s", err, supervisor.FaultName(st.wantFault))
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !equalStatuses(got, st.want) {
				t.Errorf("statuses = %+v, want %+v", got, st.want)
			}
			for _, s := range got {
				err := s.Err()
				if s.Status == supervisor.FaultSuccess {
					if err != nil {
						t.Errorf("%s: Err() = %v, want nil", s.FullName(), err)
					}
					continue
				}
				var f *supervisor.Fault
				if !errors.As(err, &f) || f.Code != s.Status || f.Name != supervisor.FaultName(s.Status) || f.Detail != "NOSUCHSIG" {
					t.Errorf("%s: Err() = %#v, want fault %d %s with detail NOSUCHSIG", s.FullName(), err, s.Status, supervisor.FaultName(s.Status))
				}
			}
			for _, name := range []string{"grp:a", "grp:b"} {
				srv.WaitProcessState(t, name, st.wantState)
			}
		})
	}
}

// equalStatuses compares ignoring order (supervisord reports a group in its
// own order) and treats nil and empty alike only when want is empty.
func equalStatuses(got, want []supervisor.ProcessStatus) bool {
	if len(got) != len(want) || (want != nil && got == nil) {
		return false
	}
	seen := map[supervisor.ProcessStatus]int{}
	for _, s := range want {
		seen[s]++
	}
	for _, s := range got {
		if seen[s] == 0 {
			return false
		}
		seen[s]--
	}
	return true
}

func TestSignalProcessAndTail(t *testing.T) {
	t.Parallel()
	srv, c := startBase(t)

	// talker printed "hello" to stdout and "oops" to stderr at start.
	out := waitTail(t, c, "talker", "hello\n")
	if out.Overflow || out.Offset != len("hello\n") {
		t.Errorf("stdout tail = %+v, want offset %d and no overflow", out, len("hello\n"))
	}
	waitTail(t, c, "talker", "oops\n", stderr())

	tails := []struct {
		name   string
		offset int
		length int
		want   supervisor.Tail
	}{
		{"whole", 0, 100, supervisor.Tail{Data: "hello\n", Offset: 6}},
		{"overflow", 0, 3, supervisor.Tail{Data: "lo\n", Offset: 6, Overflow: true}},
		// supervisord returns the last length bytes whenever the log is
		// longer than offset, not the bytes from offset on.
		{"before end", 2, 100, supervisor.Tail{Data: "hello\n", Offset: 6}},
		{"past end", 60, 100, supervisor.Tail{Data: "", Offset: 6}},
		{"at end", 6, 100, supervisor.Tail{Data: "", Offset: 6}},
	}
	for _, tt := range tails {
		t.Run("tail "+tt.name, func(t *testing.T) {
			got, err := c.TailProcessStdoutLog(ctx(t, 5*time.Second), "talker", tt.offset, tt.length)
			if err != nil {
				t.Fatalf("TailProcessStdoutLog: %v", err)
			}
			if got != tt.want {
				t.Errorf("TailProcessStdoutLog(%d, %d) = %+v, want %+v", tt.offset, tt.length, got, tt.want)
			}
		})
	}

	// No log file: supervisord 4.2.5 answers an empty tail, not NO_FILE.
	got, err := c.TailProcessStderrLog(ctx(t, 5*time.Second), "quiet", 0, 100)
	if err != nil || got != (supervisor.Tail{}) {
		t.Errorf("TailProcessStderrLog(quiet) = %+v, %v; want empty", got, err)
	}
	_, err = c.TailProcessStdoutLog(ctx(t, 5*time.Second), "nope", 0, 100)
	assertFault(t, err, supervisor.FaultBadName, "nope")

	if err := c.SignalProcess(ctx(t, 5*time.Second), "talker", "HUP"); err != nil {
		t.Fatalf("SignalProcess(HUP): %v", err)
	}
	waitTail(t, c, "talker", "hello\ngot-hup\n")

	faults := []struct {
		name, process, signal string
		code                  int
	}{
		{"bad signal", "talker", "NOSUCHSIG", supervisor.FaultBadSignal},
		{"not running", "failer", "HUP", supervisor.FaultNotRunning},
		{"bad name", "nope", "HUP", supervisor.FaultBadName},
	}
	for _, tt := range faults {
		t.Run("signal "+tt.name, func(t *testing.T) {
			err := c.SignalProcess(ctx(t, 5*time.Second), tt.process, tt.signal)
			if !supervisor.IsFault(err, tt.code) {
				t.Errorf("SignalProcess(%s, %s) = %v, want %s", tt.process, tt.signal, err, supervisor.FaultName(tt.code))
			}
		})
	}
	// A numeric signal works too: 9 kills talker, which supervisord restarts.
	before := srv.WaitProcessState(t, "talker", supervisor.ProcessRunning)
	if err := c.SignalProcess(ctx(t, 5*time.Second), "talker", "9"); err != nil {
		t.Fatalf("SignalProcess(9): %v", err)
	}
	testsupport.WaitFor(t, waitTimeout, "talker restarted with a new pid", func() bool {
		p, err := c.GetProcessInfo(ctx(t, 5*time.Second), "talker")
		return err == nil && p.State == supervisor.ProcessRunning && p.PID != before.PID
	})
}

type tailOpt func(*bool)

func stderr() tailOpt { return func(b *bool) { *b = true } }

// waitTail polls the tail of a process log until it equals want.
func waitTail(t *testing.T, c *supervisor.Client, name, want string, opts ...tailOpt) supervisor.Tail {
	t.Helper()
	useStderr := false
	for _, o := range opts {
		o(&useStderr)
	}
	var (
		got supervisor.Tail
		err error
	)
	testsupport.Eventually(t, waitTimeout, fmt.Sprintf("log of %s to be %q", name, want), func() (bool, string) {
		if useStderr {
			got, err = c.TailProcessStderrLog(ctx(t, 5*time.Second), name, 0, 1000)
		} else {
			got, err = c.TailProcessStdoutLog(ctx(t, 5*time.Second), name, 0, 1000)
		}
		return err == nil && got.Data == want, fmt.Sprintf("%q (err %v)", got.Data, err)
	})
	return got
}

// waitTimeout bounds every wait on a real supervisord in this package.
const waitTimeout = 20 * time.Second

func TestMulticall(t *testing.T) {
	t.Parallel()
	srv, c := startBase(t)
	results, err := c.Multicall(ctx(t, 10*time.Second), []supervisor.Call{
		{Method: "supervisor.getState"},
		{Method: "supervisor.getProcessInfo", Params: []any{"nope"}},
		{Method: "supervisor.getPID"},
		{Method: "supervisor.stopProcess", Params: []any{"sleeper", true}},
		{Method: "supervisor.stopProcess", Params: []any{"sleeper", true}},
		{Method: "supervisor.noSuchMethod"},
		{Method: "system.multicall", Params: []any{[]any{}}},
		{Method: "supervisor.getProcessInfo", Params: []any{"grp:a"}},
	})
	if err != nil {
		t.Fatalf("Multicall: %v", err)
	}
	if len(results) != 8 {
		t.Fatalf("Multicall returned %d results, want 8: %#v", len(results), results)
	}
	checks := []struct {
		name  string
		fault int
		value func(any) bool
	}{
		{"getState", 0, func(v any) bool {
			m, ok := v.(map[string]any)
			return ok && m["statecode"] == int64(1) && m["statename"] == "RUNNING"
		}},
		{"getProcessInfo nope", supervisor.FaultBadName, nil},
		{"getPID", 0, func(v any) bool { return v == int64(srv.PID) }},
		{"stopProcess wait", 0, func(v any) bool { return v == true }},
		{"stopProcess again", supervisor.FaultNotRunning, nil},
		{"unknown method", supervisor.FaultUnknownMethod, nil},
		{"recursive multicall", supervisor.FaultIncorrectParameters, nil},
		{"getProcessInfo grp:a", 0, func(v any) bool {
			m, ok := v.(map[string]any)
			return ok && m["name"] == "a" && m["group"] == "grp" && m["statename"] == "RUNNING"
		}},
	}
	for i, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			r := results[i]
			if ch.fault != 0 {
				if !supervisor.IsFault(r.Err, ch.fault) || r.Value != nil {
					t.Errorf("result = %#v, want fault %s", r, supervisor.FaultName(ch.fault))
				}
				return
			}
			if r.Err != nil || !ch.value(r.Value) {
				t.Errorf("result = %#v (err %v)", r.Value, r.Err)
			}
		})
	}
	srv.WaitProcessState(t, "sleeper", supervisor.ProcessStopped)

	if results, err := c.Multicall(ctx(t, 5*time.Second), nil); results != nil || err != nil {
		t.Errorf("Multicall(nil) = %v, %v; want nil, nil", results, err)
	}
}
