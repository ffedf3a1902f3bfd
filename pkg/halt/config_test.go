package halt_test

import (
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/supervisor"
)

func TestConfigValidate(t *testing.T) {
	valid := func() halt.Config {
		return halt.Config{Critical: []string{"risk_manager"}, Targets: []string{"trading"}}
	}
	tests := []struct {
		name   string
		modify func(*halt.Config)
		want   string // "" means valid
	}{
		{name: "valid", modify: func(*halt.Config) {}},
		{name: "empty targets", modify: func(c *halt.Config) { c.Targets = nil },
			want: "targets: empty target list: name the groups or programs a halt stops (e.g. trading)"},
		{name: "no critical", modify: func(c *halt.Config) { c.Critical = nil },
			want: "critical: no critical programs: name at least one (e.g. risk_manager)"},
		{name: "blank pattern", modify: func(c *halt.Config) { c.Targets = []string{"trading", " "} },
			want: "targets[1]: empty pattern"},
		{name: "bad glob", modify: func(c *halt.Config) { c.Critical = []string{"risk["} },
			want: `critical[0]: pattern "risk[": syntax error in pattern`},
		{name: "two colons", modify: func(c *halt.Config) { c.Targets = []string{"a:b:c"} },
			want: `targets[0]: pattern "a:b:c": want name or group:name`},
		{name: "target is critical", modify: func(c *halt.Config) { c.Targets = []string{"risk_manager"} },
			want: `targets: "risk_manager" is also critical: a halt must not stop what it protects`},
		{name: "negative verify timeout", modify: func(c *halt.Config) { c.VerifyTimeout = -time.Second },
			want: "verify_timeout: -1s is negative"},
		{name: "empty flatten program", modify: func(c *halt.Config) { c.Flatten.Command = []string{""} },
			want: "flatten.command[0]: empty program"},
		{name: "stop mode", modify: func(c *halt.Config) { c.StopMode = "sequential" },
			want: `stop_mode: "sequential": want multicall or concurrent`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.modify(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	procs := []supervisor.ProcessInfo{
		{Group: "risk_manager", Name: "risk_manager"},
		{Group: "trading", Name: "a"},
		{Group: "trading", Name: "b"},
		{Group: "haltguard", Name: "haltguard"},
	}
	tests := []struct {
		name string
		cfg  halt.Config
		want []string // error lines; none means valid
	}{
		{name: "valid", cfg: halt.Config{Critical: []string{"risk_manager"}, Targets: []string{"trading"}, Self: "haltguard:haltguard"}},
		{name: "unknown group", cfg: halt.Config{Critical: []string{"risk_manager"}, Targets: []string{"tradnig"}},
			want: []string{
				`targets: "tradnig" matches no program or group in supervisord (unknown group?)`,
				"targets: select no process a halt could stop",
			}},
		{name: "unknown critical", cfg: halt.Config{Critical: []string{"risk"}, Targets: []string{"trading"}},
			want: []string{`critical: "risk" matches no program or group in supervisord`}},
		{name: "overlap", cfg: halt.Config{Critical: []string{"risk_manager", "trading:a"}, Targets: []string{"trading"}},
			want: []string{"targets: trading:a is also critical: a halt must not stop what it protects"}},
		{name: "self", cfg: halt.Config{Critical: []string{"risk_manager"}, Targets: []string{"*"}, Self: "haltguard:haltguard"},
			want: []string{
				"targets: risk_manager:risk_manager is also critical: a halt must not stop what it protects",
				"targets: haltguard:haltguard is the kill switch itself",
			}},
		{name: "missing flatten program", cfg: halt.Config{Critical: []string{"risk_manager"}, Targets: []string{"trading"},
			Flatten: halt.FlattenConfig{Command: []string{"/nonexistent/flatten"}}},
			want: []string{`flatten.command[0]: exec: "/nonexistent/flatten": stat /nonexistent/flatten: no such file or directory`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Check(procs)
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Check() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check() = nil, want %q", tt.want)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Check() =\n%s\nwant\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}
