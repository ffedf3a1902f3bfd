package main

import (
	"slices"
	"testing"

	"github.com/superguard/superguard/pkg/supervisor"
)

func TestSelectorNotes(t *testing.T) {
	procs := []supervisor.ProcessInfo{
		{Group: "trading", Name: "a"}, {Group: "trading", Name: "b"}, {Group: "haltguard", Name: "haltguard"},
	}
	tests := []struct {
		name  string
		cfg   Config
		known bool
		want  []string
	}{
		{name: "bare word naming a group", cfg: Config{Include: []string{"trading"}, Listeners: []string{"haltguard"}}, known: true,
			want: []string{`listeners.crashpager.include[0]: "trading" now also selects every process of group trading (trading:a, trading:b); write "*:trading" to select only the program`}},
		{name: "exclude too", cfg: Config{Exclude: []string{"x", "trad*"}}, known: true,
			want: []string{`listeners.crashpager.exclude[1]: "trad*" now also selects every process of group trading (trading:a, trading:b); write "*:trad*" to select only the program`}},
		{name: "unchanged meaning", cfg: Config{Include: []string{"a", "trading:*", "*:trading"}}, known: true},
		{name: "supervisord unknown: every bare include and exclude", cfg: Config{Include: []string{"a", "g:*"}, Exclude: []string{"b"},
			Listeners: []string{"haltguard"}},
			want: []string{
				`listeners.crashpager.include[0]: "a" also selects every process of a group named a; write "*:a" to select only the program`,
				`listeners.crashpager.exclude[0]: "b" also selects every process of a group named b; write "*:b" to select only the program`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := selectorNotes(tt.cfg, procs, tt.known); !slices.Equal(got, tt.want) {
				t.Errorf("notes =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
