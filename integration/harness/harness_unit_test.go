package harness

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestRenderConf(t *testing.T) {
	data := ConfData{
		Dir: "/tmp/sc", Socket: "/tmp/sc/supervisor.sock", URL: "unix:///tmp/sc/supervisor.sock",
		InetAddr: "127.0.0.1:9001", InetURL: "http://127.0.0.1:9001", Username: "u", Password: "p",
		Vars: map[string]string{"port": "8080"},
	}
	bin := func(pkg string) (string, error) {
		if pkg == "./missing" {
			return "", errors.New("no such package")
		}
		return "/bin/" + strings.TrimPrefix(pkg, "./"), nil
	}
	tests := []struct {
		name     string
		opts     Options
		data     ConfData
		want     []string // substrings, in order
		dontWant []string
		wantErr  string
	}{
		{
			name: "generated base with sections",
			opts: Options{LogLevel: "info", Sections: "[program:a]\ncommand={{bin \"./cmd/a\"}} -port {{.Vars.port}} -dir {{.Dir}}\n"},
			data: ConfData{Dir: data.Dir, Socket: data.Socket, URL: data.URL, Vars: data.Vars},
			want: []string{
				"[unix_http_server]\nfile=/tmp/sc/supervisor.sock\nchmod=0700\n",
				"[supervisord]\nlogfile=/tmp/sc/supervisord.log\nlogfile_maxbytes=0\nloglevel=info\n",
				"nodaemon=true", "[rpcinterface:supervisor]", "serverurl=unix:///tmp/sc/supervisor.sock",
				"[program:a]\ncommand=/bin/cmd/a -port 8080 -dir /tmp/sc\n",
			},
			dontWant: []string{"inet_http_server", "username="},
		},
		{
			name: "inet with auth, unix without",
			opts: Options{LogLevel: "debug", Inet: true, Username: "u", Password: "p"},
			data: data,
			want: []string{
				"[unix_http_server]\nfile=/tmp/sc/supervisor.sock\nchmod=0700\n\n[inet_http_server]\nport=127.0.0.1:9001\nusername=u\npassword=p\n",
				"loglevel=debug",
			},
		},
		{
			name:     "unix auth",
			opts:     Options{LogLevel: "info", UnixAuth: true, Username: "u", Password: "p"},
			data:     ConfData{Dir: data.Dir, Socket: data.Socket, URL: data.URL, Username: "u", Password: "p"},
			want:     []string{"[unix_http_server]\nfile=/tmp/sc/supervisor.sock\nchmod=0700\nusername=u\npassword=p\n"},
			dontWant: []string{"inet_http_server"},
		},
		{
			name: "go backend never rotates its log at every write",
			opts: Options{LogLevel: "info", Backend: GoSupervisord},
			data: data,
			want: []string{"logfile_maxbytes=1GB"},
		},
		{
			name:     "conf template replaces the base",
			opts:     Options{ConfTemplate: "[supervisord]\nlogfile={{.Dir}}/x.log\n", Sections: "[program:b]\ncommand=true\n"},
			data:     data,
			want:     []string{"[supervisord]\nlogfile=/tmp/sc/x.log\n[program:b]\ncommand=true\n"},
			dontWant: []string{"unix_http_server"},
		},
		{name: "bin error", opts: Options{Sections: `{{bin "./missing"}}`}, data: data, wantErr: "no such package"},
		{name: "missing var", opts: Options{Sections: `{{.Vars.nope}}`}, data: data, wantErr: "nope"},
		{name: "bad template", opts: Options{Sections: `{{.Dir`}, data: data, wantErr: "conf template sections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.data.Vars == nil {
				tt.data.Vars = map[string]string{}
			}
			got, err := renderConf(tt.opts, tt.data, bin)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("renderConf error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("renderConf: %v", err)
			}
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("conf lacks %q (in order); conf:\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tt.dontWant {
				if strings.Contains(got, w) {
					t.Errorf("conf has %q; conf:\n%s", w, got)
				}
			}
			if sections := ParseConf(got); len(sections) == 0 {
				t.Errorf("rendered conf has no sections:\n%s", got)
			}
		})
	}
}

func TestParseINI(t *testing.T) {
	text := `; comment
# another
[supervisord]
logfile = /var/log/x.log ; inline comment
pidfile=/run/x.pid

[include]
files = conf.d/*.conf
   more/*.conf
[program:a b]
command=/bin/sh -c "echo a=b;c"
environment=A="1",B="x:y"
`
	want := []ConfSection{
		{Name: "supervisord", Values: map[string]string{"logfile": "/var/log/x.log", "pidfile": "/run/x.pid"}},
		{Name: "include", Values: map[string]string{"files": "conf.d/*.conf\nmore/*.conf"}},
		{Name: "program:a b", Values: map[string]string{"command": `/bin/sh -c "echo a=b;c"`, "environment": `A="1",B="x:y"`}},
	}
	got := ParseConf(text)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseConf =\n%+v\nwant\n%+v", got, want)
	}
	if s := FindSection(got, "include"); s == nil || s.Values["files"] == "" {
		t.Errorf("FindSection(include) = %+v", s)
	}
	if s := FindSection(got, "nope"); s != nil {
		t.Errorf("FindSection(nope) = %+v, want nil", s)
	}
}

func TestCheckProblems(t *testing.T) {
	log := `2026-01-01 00:00:01,000 INFO spawned: 'eventlog' with pid 10
2026-01-01 00:00:02,000 WARN eventlog: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol
2026-01-01 00:00:03,000 WARN eventlog: bad result line: 'garbage'
2026-01-01 00:00:04,000 WARN eventlog: event was rejected
2026-01-01 00:00:05,000 ERRO pool eventlog event buffer overflowed, discarding event 1
2026-01-01 00:00:06,000 ERRO pool eventlog event buffer overflowed, discarding event 2
`
	found := findProblems(log)
	if n := len(found[ProblemOverflow]); n != 2 {
		t.Errorf("overflow lines = %d, want 2", n)
	}
	for _, p := range Problems {
		if len(found[p]) == 0 {
			t.Errorf("problem %q not found", p)
		}
	}
	tests := []struct {
		name             string
		log              string
		expect, tolerate []Problem
		want             []string // one substring per failure, in Problems order
	}{
		{name: "clean log", log: "INFO spawned\n"},
		{name: "every problem unexpected", log: log, want: []string{`"UNKNOWN state" 1 time`, `"bad result line" 1 time`, `"was rejected" 1 time`, `"event buffer overflowed" 2 time`}},
		{name: "tolerated and expected", log: log, expect: []Problem{ProblemOverflow, ProblemRejected}, tolerate: []Problem{ProblemUnknownState, ProblemBadResult}},
		{name: "expected but absent", log: "INFO spawned\n", expect: []Problem{ProblemOverflow}, want: []string{`never showed "event buffer overflowed"`}},
		{name: "tolerated and absent", log: "INFO spawned\n", tolerate: []Problem{ProblemOverflow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkProblems(findProblems(tt.log), tt.expect, tt.tolerate)
			if len(got) != len(tt.want) {
				t.Fatalf("checkProblems = %d failures, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("failure %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    proc
		wantErr bool
	}{
		{
			name: "plain",
			in:   "1234 (sleep) S 1200 1234 1200 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100 18446744073709551615",
			want: proc{PID: 1234, PPID: 1200, PGID: 1234, Start: 987654, Comm: "sleep"},
		},
		{
			name: "command with spaces and parens",
			in:   "77 (a (b) c) R 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0 0",
			want: proc{PID: 77, PPID: 1, PGID: 77, Start: 42, Comm: "a (b) c"},
		},
		{name: "truncated", in: "1 (x) S 0 1", wantErr: true},
		{name: "no comm", in: "garbage", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat error = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMatchingLines(t *testing.T) {
	got := MatchingLines("a 1\nb 2\r\na 3", regexp.MustCompile(`^a`))
	if want := []string{"a 1", "a 3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MatchingLines = %q, want %q", got, want)
	}
}

func TestBackendString(t *testing.T) {
	for b, want := range map[Backend]string{RealSupervisord: "supervisord", GoSupervisord: "go-supervisord", 7: "backend(7)"} {
		if got := b.String(); got != want {
			t.Errorf("Backend(%d).String() = %q, want %q", int(b), got, want)
		}
	}
}
