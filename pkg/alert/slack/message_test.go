package slack

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// brokenEntity reports whether escaped mrkdwn holds an & that does not
// start one of the three entities escapeAll writes.
func brokenEntity(s string) bool {
	s = strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(s)
	return strings.Contains(s, "&")
}

func TestTruncationKeepsLimitsAndEntities(t *testing.T) {
	tests := []struct {
		name string
		fn   func() string
		max  int
		want string // exact result when set
	}{
		{name: "escape fits", fn: func() string { return escape("*A* ", "a<b", 20) }, max: 20, want: "*A* a&lt;b"},
		{name: "escape cut before entity", fn: func() string { return escape("", strings.Repeat("&", 100), 10) }, max: 10, want: "&amp;…"},
		{name: "escape cut multibyte", fn: func() string { return escape("", strings.Repeat("é", 100), 10) }, max: 10, want: strings.Repeat("é", 9) + "…"},
		{name: "cut inside entity", fn: func() string { return cut("&amp;&amp;&amp;", 8) }, max: 8, want: "&amp;…"},
		{name: "cut plain", fn: func() string { return cut("abcdefghij", 5) }, max: 5, want: "abcd…"},
		{name: "truncate header", fn: func() string { return truncate(strings.Repeat("h", 200), maxHeader) }, max: maxHeader},
		{name: "code block", fn: func() string { return codeBlock("*t*", strings.Repeat("<&>\n", 5000), maxSection) }, max: maxSection},
		{name: "code block tiny tail", fn: func() string { return codeBlock("*t*", "ok\n", maxSection) }, max: maxSection, want: "*t*\n```\nok\n```"},
		{name: "details", fn: func() string {
			d := map[string]string{}
			for _, k := range []string{"a", "b", "c", "d"} {
				d[k] = strings.Repeat("<&>", 400)
			}
			return details(d)
		}, max: maxSection},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.fn()
			if n := utf8.RuneCountInString(got); n > tc.max {
				t.Errorf("%d characters, limit %d", n, tc.max)
			}
			if brokenEntity(got) {
				t.Errorf("split entity in %q", got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCodeBlockCannotBeClosedEarly(t *testing.T) {
	got := codeBlock("*t*", "a```b", maxSection)
	if strings.Count(got, "```") != 2 {
		t.Errorf("fences in %q: want exactly the opening and closing ones", got)
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref       string
		ch, ts    string
		wantValid bool
	}{
		{"C123/1700000000.000100", "C123", "1700000000.000100", true},
		{"", "", "", false},
		{"C123", "", "", false},
		{"/1.2", "", "", false},
		{"C123/", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			ch, ts, ok := parseRef(tc.ref)
			if ok != tc.wantValid || (ok && (ch != tc.ch || ts != tc.ts)) {
				t.Errorf("parseRef(%q) = %q, %q, %v", tc.ref, ch, ts, ok)
			}
		})
	}
}
