package procmatch

import (
	"slices"
	"testing"

	"github.com/superguard/superguard/pkg/supervisor"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name        string
		pattern     string
		group, proc string
		want        bool
	}{
		{name: "bare name", pattern: "mm", group: "strat", proc: "mm", want: true},
		{name: "bare word selects the group", pattern: "strat", group: "strat", proc: "mm", want: true},
		{name: "bare glob selects groups", pattern: "str*", group: "strat", proc: "mm", want: true},
		{name: "star:name is the program only", pattern: "*:strat", group: "strat", proc: "mm", want: false},
		{name: "star:name in any group", pattern: "*:mm", group: "strat", proc: "mm", want: true},
		{name: "group:star is the group only", pattern: "mm:*", group: "strat", proc: "mm", want: false},
		{name: "bare word with an empty group", pattern: "strat", group: "", proc: "mm", want: false},
		{name: "group:name", pattern: "strat:mm", group: "strat", proc: "mm", want: true},
		{name: "group:name other group", pattern: "strat:mm", group: "feed", proc: "mm", want: false},
		{name: "group star", pattern: "strat:*", group: "strat", proc: "mm", want: true},
		{name: "group star other group", pattern: "strat:*", group: "feed", proc: "mm", want: false},
		{name: "glob on the name", pattern: "feed_?", group: "feeds", proc: "feed_1", want: true},
		{name: "glob on group and name", pattern: "tr?d*:mm_[ab]", group: "trading", proc: "mm_b", want: true},
		{name: "ungrouped by its own group", pattern: "risk:risk", group: "risk", proc: "risk", want: true},
		{name: "colon in a name is not split twice", pattern: "g:a*", group: "g", proc: "a:b", want: true},
		{name: "invalid pattern matches nothing", pattern: "[x", group: "g", proc: "[x", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.group, tt.proc); got != tt.want {
				t.Errorf("Match(%q, %q, %q) = %v, want %v", tt.pattern, tt.group, tt.proc, got, tt.want)
			}
		})
	}
}

func TestMatchGroup(t *testing.T) {
	tests := []struct {
		name           string
		pattern, group string
		want           bool
	}{
		{name: "bare pattern on the group", pattern: "strat", group: "strat", want: true},
		{name: "group part", pattern: "strat:engine", group: "strat", want: true},
		{name: "group star", pattern: "strat:*", group: "strat", want: true},
		{name: "glob group part", pattern: "fee*:feed_1", group: "feeds", want: true},
		{name: "other group", pattern: "strat:*", group: "feeds", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchGroup(tt.pattern, tt.group); got != tt.want {
				t.Errorf("MatchGroup(%q, %q) = %v, want %v", tt.pattern, tt.group, got, tt.want)
			}
		})
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		group, proc      string
		want             bool
	}{
		{name: "empty include selects all", group: "g", proc: "p", want: true},
		{name: "include", include: []string{"strat:*"}, group: "strat", proc: "mm", want: true},
		{name: "not included", include: []string{"strat:*"}, group: "feed", proc: "mm", want: false},
		{name: "exclude wins", include: []string{"strat:*"}, exclude: []string{"mm"}, group: "strat", proc: "mm", want: false},
		{name: "exclude other", exclude: []string{"feed:*"}, group: "strat", proc: "mm", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Match(tt.group, tt.proc); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.group, tt.proc, got, tt.want)
			}
		})
	}
	if None().Match("g", "p") {
		t.Error("None().Match(g, p) = true, want false")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		field    string
		patterns []string
		wantErr  string // "" for valid
	}{
		{name: "valid", field: "include", patterns: []string{"a", "g:a", "g:*", "feed_[0-9]", "*"}},
		{name: "empty", field: "include", patterns: []string{""}, wantErr: "include[0]: empty pattern"},
		{name: "blank", field: "exclude", patterns: []string{"ok", " "}, wantErr: "exclude[1]: empty pattern"},
		{name: "two colons", field: "listeners", patterns: []string{"a:b:c"},
			wantErr: `listeners[0]: pattern "a:b:c": want name or group:name`},
		{name: "bad glob", field: "include", patterns: []string{"feed_[0-9"},
			wantErr: `include[0]: pattern "feed_[0-9": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAll(tt.field, tt.patterns)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("CheckAll: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("CheckAll error = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := New([]string{"ok"}, []string{"[x"}); err == nil || err.Error() != `exclude[0]: pattern "[x": syntax error in pattern` {
		t.Errorf("New error = %v", err)
	}
}

func TestWiden(t *testing.T) {
	procs := []supervisor.ProcessInfo{
		{Group: "trading", Name: "a"}, {Group: "trading", Name: "b"},
		{Group: "trading", Name: "trading"}, {Group: "risk", Name: "risk"},
		{Group: "", Name: "gosup"},
	}
	tests := []struct {
		name     string
		patterns []string
		want     []string // notes
	}{
		{name: "bare word naming a group", patterns: []string{"risk", "trading"},
			want: []string{`include[1]: "trading" now also selects every process of group trading (trading:a, trading:b); write "*:trading" to select only the program`}},
		{name: "glob naming a group", patterns: []string{"trad*"},
			want: []string{`include[0]: "trad*" now also selects every process of group trading (trading:a, trading:b); write "*:trad*" to select only the program`}},
		{name: "group:name patterns never widen", patterns: []string{"trading:*", "*:trading"}},
		{name: "program names only", patterns: []string{"a", "risk", "gosup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, w := range Widen(tt.patterns, procs) {
				got = append(got, w.Note("include"))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("notes = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnmatched(t *testing.T) {
	procs := []supervisor.ProcessInfo{{Group: "trading", Name: "a"}, {Group: "risk", Name: "rm"}}
	got := Unmatched([]string{"trading", "rm", "nothing", "risk:*", "x:*"}, procs)
	if want := []string{"nothing", "x:*"}; !slices.Equal(got, want) {
		t.Errorf("Unmatched = %q, want %q", got, want)
	}
}
