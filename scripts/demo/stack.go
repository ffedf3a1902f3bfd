package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/superguard/superguard/pkg/state"
	"github.com/superguard/superguard/pkg/supervisor"
)

// strategy is one fake strategy of the demo's trading group.
type strategy struct {
	Name string
	Port int    // its /health port
	Role string // what it plays in the scenario
}

// listenerSpec is one superguard listener the demo runs when it is built.
type listenerSpec struct {
	Name   string
	Args   string
	Events string
}

// knownListeners are superguard's listeners, in the order they are
// started and described. Each runs when its binary is in -bin.
var knownListeners = []listenerSpec{
	{"eventlog", "-state-file {{.Dir}}/lib/eventlog.state", "PROCESS_STATE,SUPERVISOR_STATE_CHANGE,REMOTE_COMMUNICATION,TICK_60"},
	{"crashpager", "-config {{.Dir}}/superguard.yaml", "PROCESS_STATE,TICK_5"},
	{"haltguard", "-config {{.Dir}}/superguard.yaml", "PROCESS_STATE,TICK_5,REMOTE_COMMUNICATION"},
	{"healthprobe", "-config {{.Dir}}/superguard.yaml", "TICK_5,PROCESS_STATE,PROCESS_COMMUNICATION"},
	{"memguard", "-config {{.Dir}}/superguard.yaml", "TICK_5,PROCESS_STATE"},
}

// strategyNames are the trading group's programs, one per misbehaviour.
var strategyRoles = []struct{ name, role string }{
	{"momentum", "its feed freezes"},
	{"mean_revert", "it hangs"},
	{"market_maker", "it leaks memory"},
	{"stat_arb", "it crash-loops"},
}

// confData is what the templates in supervisor-conf/demo see.
type confData struct {
	Dir        string
	Bin        string
	Strategies []strategy
	Listeners  []listenerSpec
	WebPort    int
	WebUser    string
	WebPass    string
	ExtraSinks []string // YAML list items of opted-in sinks, indented
	RouteSinks string   // the sinks every alert goes to
}

// stack is the running demo: supervisord and what it runs.
type stack struct {
	data confData
	// supervisorctl is the one next to supervisord, else on PATH.
	supervisorctl string
	conf          string // the rendered supervisord.conf
	config        string // the rendered superguard.yaml
	sup           *exec.Cmd
	exited        chan struct{} // closed when supervisord exits
	waitErr       error
	client        *supervisor.Client
	store         *state.Store
}

// has reports whether listener name is part of the stack.
func (s *stack) has(name string) bool {
	return slices.ContainsFunc(s.data.Listeners, func(l listenerSpec) bool { return l.Name == name })
}

// path is a file of the demo directory.
func (s *stack) path(rel string) string { return filepath.Join(s.data.Dir, rel) }

// prepare renders the demo's confs into dir: the listeners built in bin,
// free ports for the strategies and the web UI, and the sinks of the
// opt-in file (empty: none).
func prepare(dir, bin, confDir, sinksFile string) (s *stack, missing, passEnv []string, err error) {
	if _, err := os.Stat(filepath.Join(bin, "fakestrategy")); err != nil {
		return nil, nil, nil, fmt.Errorf("the demo's strategies: %w (make demo builds it)", err)
	}
	if _, err := os.Stat(filepath.Join(bin, "haltguard")); err != nil {
		return nil, nil, nil, fmt.Errorf("haltguard: %w (the strategies start through its gate; make demo builds it)", err)
	}
	d := confData{Dir: dir, Bin: bin, WebUser: "demo", RouteSinks: "log"}
	for _, l := range knownListeners {
		if _, err := os.Stat(filepath.Join(bin, l.Name)); err != nil {
			missing = append(missing, l.Name)
			continue
		}
		l.Args = strings.ReplaceAll(l.Args, "{{.Dir}}", dir)
		d.Listeners = append(d.Listeners, l)
	}
	ports, err := freePorts(len(strategyRoles) + 1)
	if err != nil {
		return nil, nil, nil, err
	}
	for i, r := range strategyRoles {
		d.Strategies = append(d.Strategies, strategy{Name: r.name, Port: ports[i], Role: r.role})
	}
	d.WebPort = ports[len(ports)-1]
	pass := make([]byte, 8)
	_, _ = rand.Read(pass)
	d.WebPass = hex.EncodeToString(pass)
	if sinksFile != "" {
		if d.ExtraSinks, d.RouteSinks, passEnv, err = optInSinks(sinksFile); err != nil {
			return nil, nil, nil, err
		}
	}
	for _, sub := range []string{"run", "log", "lib"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, nil, nil, err
		}
	}
	s = &stack{data: d, conf: filepath.Join(dir, "supervisord.conf"), config: filepath.Join(dir, "superguard.yaml")}
	for _, f := range []struct{ tmpl, out string }{
		{filepath.Join(confDir, "supervisord.conf"), s.conf},
		{filepath.Join(confDir, "superguard.yaml"), s.config},
	} {
		if err := render(f.tmpl, f.out, d); err != nil {
			return nil, nil, nil, err
		}
	}
	return s, missing, passEnv, nil
}

// check runs each listener's -check on the rendered config, so that a
// mistake in it is one clear line now rather than a FATAL listener later.
func (s *stack) check() error {
	for _, l := range s.data.Listeners {
		if !strings.Contains(l.Args, "-config") {
			continue
		}
		out, err := exec.Command(filepath.Join(s.data.Bin, l.Name), "-check", "-file-only", "-config", s.config).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s -check %s: %v\n%s", l.Name, s.config, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// render executes the template file tmpl with d into out (mode 0600: the
// web UI's password is in it).
func render(tmpl, out string, d confData) error {
	text, err := os.ReadFile(tmpl)
	if err != nil {
		return err
	}
	t, err := template.New(filepath.Base(tmpl)).Option("missingkey=error").Parse(string(text))
	if err != nil {
		return fmt.Errorf("%s: %w", tmpl, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return fmt.Errorf("%s: %w", tmpl, err)
	}
	return os.WriteFile(out, []byte(b.String()), 0o600)
}

// optInSinks reads the file SUPERGUARD_DEMO_SINKS names: a YAML document
// with a sinks: list in superguard.yaml's syntax. It returns the sinks as
// YAML list items indented for the demo config, the route's sink list
// ("log" and theirs), and the environment variables their *_env fields
// name (passed to the listeners: only these).
func optInSinks(path string) (items []string, route string, env []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("SUPERGUARD_DEMO_SINKS: %w", err)
	}
	var doc struct {
		Sinks []map[string]any `yaml:"sinks"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, "", nil, fmt.Errorf("SUPERGUARD_DEMO_SINKS %s: %w", path, err)
	}
	if len(doc.Sinks) == 0 {
		return nil, "", nil, fmt.Errorf("SUPERGUARD_DEMO_SINKS %s: no sinks: list in it", path)
	}
	names := []string{"log"}
	for i, sink := range doc.Sinks {
		name, _ := sink["name"].(string)
		if name == "" || name == "log" {
			return nil, "", nil, fmt.Errorf("SUPERGUARD_DEMO_SINKS %s: sinks[%d]: want a name other than log", path, i)
		}
		names = append(names, name)
		for k, v := range sink {
			if s, ok := v.(string); ok && strings.HasSuffix(k, "_env") {
				env = append(env, s)
			}
		}
		out, err := yaml.Marshal([]map[string]any{sink})
		if err != nil {
			return nil, "", nil, err
		}
		items = append(items, "  "+strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", "\n  "))
	}
	return items, strings.Join(names, ", "), env, nil
}

// freePorts returns n distinct loopback ports free now.
func freePorts(n int) ([]int, error) {
	var out []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("a free port: %w", err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// demoEnv is supervisord's environment: only what a program needs to run,
// never the caller's credentials (a demo must not page anyone because a
// token happens to be in the shell), plus the variables the opt-in sinks
// name.
func demoEnv(pass []string) []string {
	env := []string{"SUPERGUARD_LOG_LEVEL=info"}
	for _, k := range append([]string{"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ"}, pass...) {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// start starts supervisord on the rendered conf and connects to it.
func (s *stack) start(ctx context.Context, supervisord string, pass []string) error {
	s.supervisorctl = filepath.Join(filepath.Dir(supervisord), "supervisorctl")
	if _, err := os.Stat(s.supervisorctl); err != nil {
		s.supervisorctl = "supervisorctl"
	}
	cmd := exec.Command(supervisord, "-n", "-c", s.conf)
	cmd.Env = demoEnv(pass)
	cmd.Dir = s.data.Dir
	console, err := os.Create(s.path("log/supervisord.console"))
	if err != nil {
		return err
	}
	defer console.Close()
	cmd.Stdout, cmd.Stderr = console, console
	// Its own process group, so that a Ctrl-C reaches the demo, which then
	// stops supervisord in order; and SIGTERM to it should the demo die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", supervisord, err)
	}
	s.sup, s.exited = cmd, make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	s.client, err = supervisor.New(supervisor.Config{URL: "unix://" + s.path("run/supervisor.sock"), Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	return s.until(ctx, 30*time.Second, "supervisord to answer", func() (bool, string) {
		st, err := s.client.GetState(ctx)
		return err == nil && st.Name == "RUNNING", errText(err)
	})
}

// gaveUp in a condition's detail ends a wait at once: it cannot come true.
const gaveUp = " is FATAL: "

// until polls cond every 50 ms until it holds, supervisord exits, ctx
// ends, or within passes; the error names what was awaited and the last
// detail cond gave.
func (s *stack) until(ctx context.Context, within time.Duration, what string, cond func() (bool, string)) error {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, detail := cond()
		if ok {
			return nil
		}
		if strings.Contains(detail, gaveUp) {
			return fmt.Errorf("%s: %s", what, detail)
		}
		if time.Now().After(deadline) {
			if detail != "" {
				detail = " (" + detail + ")"
			}
			return fmt.Errorf("gave up waiting %s for %s%s", seconds(within), what, detail)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			return fmt.Errorf("supervisord exited (%v) while waiting for %s: see %s", s.waitErr, what, s.path("log/supervisord.log"))
		case <-tick.C:
		}
	}
}

// openStore opens the listeners' state store once it exists.
func (s *stack) openStore(ctx context.Context) error {
	path := s.path("lib/state.db")
	if err := s.until(ctx, 30*time.Second, "the state store", func() (bool, string) {
		_, err := os.Stat(path)
		return err == nil, errText(err)
	}); err != nil {
		return err
	}
	var err error
	s.store, err = state.Open(ctx, path)
	return err
}

// stop stops supervisord (which stops everything it runs, in order) and
// waits for it; what is still alive after 30 s is killed.
func (s *stack) stop() error {
	if s.client != nil {
		s.client.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.sup == nil || s.sup.Process == nil {
		return nil
	}
	_ = s.sup.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.sup.Process.Pid, syscall.SIGKILL)
		<-s.exited
		return errors.New("supervisord did not stop within 30 s: killed")
	}
}

// processes reads every process's state by full name.
func (s *stack) processes(ctx context.Context) (map[string]supervisor.ProcessInfo, error) {
	all, err := s.client.GetAllProcessInfo(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]supervisor.ProcessInfo, len(all))
	for _, p := range all {
		out[p.FullName()] = p
	}
	return out, nil
}

// allRunning waits until every process supervisord runs is RUNNING.
func (s *stack) allRunning(ctx context.Context, within time.Duration) error {
	return s.until(ctx, within, "every program to be RUNNING", func() (bool, string) {
		procs, err := s.processes(ctx)
		if err != nil {
			return false, err.Error()
		}
		var notYet []string
		for name, p := range procs {
			if p.State == supervisor.ProcessFatal {
				return false, name + gaveUp + "see " + p.StderrLogfile
			}
			if p.State != supervisor.ProcessRunning {
				notYet = append(notYet, name+" "+p.StateName)
			}
		}
		slices.Sort(notYet)
		return len(notYet) == 0 && len(procs) > 0, strings.Join(notYet, ", ")
	})
}

// webURL is the web UI's address.
func (s *stack) webURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.data.WebPort) }

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
