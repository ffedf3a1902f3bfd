package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// Helpers the listeners' scenarios share: ports, the processes'
// restarts, the operator's commands, the state store, the logs.

// FakeStrategy is the command template of the fake strategy
// (integration/cmd/fakestrategy), for a Program's Command.
const FakeStrategy = `{{bin "./integration/cmd/fakestrategy"}}`

// ListenerCommand is the command template of a superguard listener
// (listeners/NAME) reading the scenario's superguard.yaml.
func ListenerCommand(name string) string {
	return `{{bin "./listeners/` + name + `"}} -config {{.Dir}}/superguard.yaml`
}

// FreePort returns a loopback port nothing listens on now.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// PortPrefix returns a prefix P such that the loopback ports P00..P0(n-1)
// are free now: the shipped confs give process NN the port 80NN.
func PortPrefix(t testing.TB, n int) string {
	t.Helper()
	for range 50 {
		p := fmt.Sprint(200 + rand.IntN(400))
		var lns []net.Listener
		for i := range n {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%s%02d", p, i))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if len(lns) == n {
			return p
		}
	}
	t.Fatal("no free run of ports")
	return ""
}

// Indent prefixes every non-empty line of s (a YAML block placed under a
// key) and ends it with a newline.
func Indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// ProcessPID is the pid of the process name now.
func (s *Supervisord) ProcessPID(t testing.TB, name string) int {
	t.Helper()
	info, err := s.Client.GetProcessInfo(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return info.PID
}

// WaitRestarted waits for name to run with a pid other than old and
// returns the new pid.
func (s *Supervisord) WaitRestarted(t testing.TB, name string, old int, timeout time.Duration) int {
	t.Helper()
	var pid int
	testsupport.Eventually(t, timeout, name+" restarted", func() (bool, string) {
		info, err := s.Client.GetProcessInfo(t.Context(), name)
		if err != nil {
			return false, err.Error()
		}
		pid = info.PID
		return info.State == supervisor.ProcessRunning && info.PID != old && info.PID != 0, info.StateName
	})
	return pid
}

// RunBin runs a built superguard binary (pkg, e.g. "./listeners/memguard")
// as an operator would, from a clean environment, and returns its exit
// code and output.
func RunBin(t testing.TB, pkg string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Bin(t, pkg), args...)
	cmd.Env = testsupport.CleanEnv()
	return testsupport.RunCombined(t, cmd)
}

// FromStore opens the state store at path and reads it with read.
func FromStore[T any](t testing.TB, path string, read func(st *state.Store, ctx context.Context) (T, error)) T {
	t.Helper()
	st, err := state.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := read(st, t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// RestartsRecorded is the number of restarts of process (group:name) the
// restart governor recorded in the state store at path in the last day.
func RestartsRecorded(t testing.TB, path, process string) int {
	return FromStore(t, path, func(st *state.Store, ctx context.Context) (int, error) {
		return st.RestartsSince(ctx, process, time.Now().Add(-24*time.Hour))
	})
}

// FileSize is the size of the file at path (a log, to read what comes
// after).
func FileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// LogValues reads the JSON log lines of the file at path after offset from
// that hold match, and returns their numeric field.
func LogValues(t testing.TB, path string, from int64, match, field string) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for line := range strings.Lines(string(data[from:])) {
		if !strings.Contains(line, match) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			if v, ok := m[field].(float64); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// ReadStatus decodes the status snapshot a listener (name) writes next to
// the state store in the scenario directory into v; a snapshot not
// written yet leaves v as it is, one that does not decode is logged.
func (s *Supervisord) ReadStatus(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(s.Path(name + ".status.json"))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil && !os.IsNotExist(err) {
		t.Logf("%s status: %v", name, err)
	}
}

// WaitRounds waits until rounds reports n more rounds than now: the
// positive signal that the listener looked again (an absence check waits
// on it, never on a sleep). A round comes every 5 s (TICK_5).
func WaitRounds(t testing.TB, n int64, timeout time.Duration, rounds func() int64) {
	t.Helper()
	want := rounds() + n
	testsupport.WaitFor(t, time.Duration(n)*5*time.Second+timeout, fmt.Sprintf("%d more rounds", n), func() bool { return rounds() >= want })
}
