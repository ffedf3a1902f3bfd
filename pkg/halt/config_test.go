package halt

import (
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/pkg/supervisor"
)

func TestPatternsMatch(t *testing.T) {
	procs := map[string]supervisor.ProcessInfo{
		"trading:strat_a":           {Group: "trading", Name: "strat_a"},
		"risk_manager:risk_manager": {Group: "risk_manager", Name: "risk_manager"},
		"risk:limits":               {Group: "risk", Name: "limits"},
		"gosup-bare":                {Group: "", Name: "gosup-bare"},
	}
	tests := []struct {
		pattern string
		matches []string
	}{
		{"trading", []string{"trading:strat_a"}},
		{"trading:*", []string{"trading:strat_a"}},
		{"strat_a", []string{"trading:strat_a"}},
		{"risk_manager", []string{"risk_manager:risk_manager"}},
		{"risk:*", []string{"risk:limits"}},
		{"risk*", []string{"risk_manager:risk_manager", "risk:limits"}},
		{"trading:strat_[ab]", []string{"trading:strat_a"}},
		{"gosup-bare", []string{"gosup-bare"}},
		{"*:limits", []string{"risk:limits"}},
		{"nothing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			ps := Patterns{tt.pattern}
			for name, p := range procs {
				want := false
				for _, m := range tt.matches {
					want = want || m == name
				}
				if got := ps.Match(p); got != want {
					t.Errorf("Match(%s) = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestPatternsMatchName(t *testing.T) {
	ps := Patterns{"trading", "risk:*"}
	for name, want := range map[string]bool{"trading:a": true, "risk:x": true, "other:trading_x": false, "trading": true} {
		if got := ps.MatchName(name); got != want {
			t.Errorf("MatchName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		return Config{Critical: Patterns{"risk_manager"}, Targets: Patterns{"trading"}}
	}
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // "" means valid
	}{
		{name: "valid", modify: func(*Config) {}},
		{name: "empty targets", modify: func(c *Config) { c.Targets = nil },
			want: "targets: empty target list: name the groups or programs a halt stops (e.g. trading)"},
		{name: "no critical", modify: func(c *Config) { c.Critical = nil },
			want: "critical: no critical programs: name at least one (e.g. risk_manager)"},
		{name: "blank pattern", modify: func(c *Config) { c.Targets = Patterns{"trading", " "} },
			want: "targets[1]: empty pattern"},
		{name: "bad glob", modify: func(c *Config) { c.Critical = Patterns{"risk["} },
			want: `critical[0]: "risk[": syntax error in pattern`},
		{name: "two colons", modify: func(c *Config) { c.Targets = Patterns{"a:b:c"} },
			want: `targets[0]: "a:b:c": want group:name, group or name`},
		{name: "target is critical", modify: func(c *Config) { c.Targets = Patterns{"risk_manager"} },
			want: `targets: "risk_manager" is also critical: a halt must not stop what it protects`},
		{name: "negative verify timeout", modify: func(c *Config) { c.VerifyTimeout = -time.Second },
			want: "verify_timeout: -1s is negative"},
		{name: "empty flatten program", modify: func(c *Config) { c.Flatten.Command = []string{""} },
			want: "flatten.command[0]: empty program"},
		{name: "stop mode", modify: func(c *Config) { c.StopMode = "sequential" },
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
		cfg  Config
		want []string // error lines; none means valid
	}{
		{name: "valid", cfg: Config{Critical: Patterns{"risk_manager"}, Targets: Patterns{"trading"}, Self: "haltguard:haltguard"}},
		{name: "unknown group", cfg: Config{Critical: Patterns{"risk_manager"}, Targets: Patterns{"tradnig"}},
			want: []string{
				`targets: "tradnig" matches no program or group in supervisord (unknown group?)`,
				"targets: select no process a halt could stop",
			}},
		{name: "unknown critical", cfg: Config{Critical: Patterns{"risk"}, Targets: Patterns{"trading"}},
			want: []string{`critical: "risk" matches no program or group in supervisord`}},
		{name: "overlap", cfg: Config{Critical: Patterns{"risk_manager", "trading:a"}, Targets: Patterns{"trading"}},
			want: []string{"targets: trading:a is also critical: a halt must not stop what it protects"}},
		{name: "self", cfg: Config{Critical: Patterns{"risk_manager"}, Targets: Patterns{"*"}, Self: "haltguard:haltguard"},
			want: []string{
				"targets: risk_manager:risk_manager is also critical: a halt must not stop what it protects",
				"targets: haltguard:haltguard is haltguard itself",
			}},
		{name: "missing flatten program", cfg: Config{Critical: Patterns{"risk_manager"}, Targets: Patterns{"trading"},
			Flatten: FlattenConfig{Command: []string{"/nonexistent/flatten"}}},
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

func TestParseHaltCommand(t *testing.T) {
	tests := []struct {
		data    string
		want    HaltCommand
		wantErr bool
	}{
		{data: `{"reason":"limits breached","by":"healthprobe"}`, want: HaltCommand{Reason: "limits breached", By: "healthprobe"}},
		{data: ``, want: HaltCommand{Reason: "remote halt request", By: "unknown"}},
		{data: `{"reason":"x"}`, want: HaltCommand{Reason: "x", By: "unknown"}},
		{data: `halt now`, want: HaltCommand{Reason: `remote halt request (unreadable data "halt now")`, By: "unknown"}, wantErr: true},
		{data: `{"reason":"x","by":"y","extra":1}`, wantErr: true,
			want: HaltCommand{Reason: `remote halt request (unreadable data "{\"reason\":\"x\",\"by\":\"y\",\"extra\":1}")`, By: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			got, err := ParseHaltCommand(tt.data)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v (a halt request is never lost)", got, tt.want)
			}
		})
	}
}

func TestParseResumeCommand(t *testing.T) {
	tests := []struct {
		data    string
		want    ResumeCommand
		wantErr string
	}{
		{data: `{"by":"ops","start":true}`, want: ResumeCommand{By: "ops", Start: true}},
		{data: `{"by":"ops","start":true,"force":true}`, want: ResumeCommand{By: "ops", Start: true, Force: true}},
		{data: `{"start":true}`, wantErr: `superguard.resume: "by" is required`},
		{data: `resume`, wantErr: `decode "resume": invalid character 'r' looking for beginning of value`},
		{data: `{"by":"a"} {}`, wantErr: `decode "{\"by\":\"a\"} {}": trailing data`},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			got, err := ParseResumeCommand(tt.data)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
