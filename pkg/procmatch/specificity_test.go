package procmatch

import "testing"

func TestRank(t *testing.T) {
	cases := []struct {
		p, group, name string
		want           Specificity
	}{
		{"*", "trading", "mm_00", AnyProcess},
		{"*:*", "trading", "mm_00", AnyProcess},
		{"trad*", "trading", "mm_00", GroupGlob},
		{"trad*:*", "trading", "mm_00", GroupGlob},
		{"trading", "trading", "mm_00", Group},
		{"trading:*", "trading", "mm_00", Group},
		{"mm_*", "trading", "mm_00", ProgramGlob},
		{"*:mm_*", "trading", "mm_00", ProgramGlob},
		{"trading:mm_*", "trading", "mm_00", ProgramGlob},
		{"mm_00", "trading", "mm_00", Program},
		{"*:mm_00", "trading", "mm_00", Program},
		{"trad*:mm_00", "trading", "mm_00", Program},
		{"trading:mm_00", "trading", "mm_00", Process},
		{"risk_manager", "risk_manager", "risk_manager", Program}, // an ungrouped program
		{"other", "trading", "mm_00", NoMatch},
		{"trading:mm_01", "trading", "mm_00", NoMatch},
	}
	for _, c := range cases {
		if got := Rank(c.p, c.group, c.name); got != c.want {
			t.Errorf("Rank(%q, %s:%s) = %s; want %s", c.p, c.group, c.name, got, c.want)
		}
	}
}

func TestBest(t *testing.T) {
	lists := [][]string{{"*"}, {"trading"}, {"trading:mm_00"}, {"mm_*", "x"}}
	if i, r, tie := Best(lists, "trading", "mm_00"); i != 2 || r != Process || tie {
		t.Errorf("mm_00: %d %s %v", i, r, tie)
	}
	if i, r, tie := Best(lists, "trading", "mm_01"); i != 3 || r != ProgramGlob || tie {
		t.Errorf("mm_01: %d %s %v", i, r, tie)
	}
	if i, r, tie := Best(lists, "trading", "arb"); i != 1 || r != Group || tie {
		t.Errorf("arb: %d %s %v", i, r, tie)
	}
	if i, _, _ := Best([][]string{{"x"}}, "trading", "arb"); i != -1 {
		t.Errorf("no match: %d", i)
	}
	// Two lists at the same level: a tie, the first kept.
	if i, r, tie := Best([][]string{{"mm_*"}, {"*_00"}}, "trading", "mm_00"); i != 0 || r != ProgramGlob || !tie {
		t.Errorf("tie: %d %s %v", i, r, tie)
	}
	// A more specific list after a tie clears it.
	if _, r, tie := Best([][]string{{"mm_*"}, {"*_00"}, {"*:mm_00"}}, "trading", "mm_00"); r != Program || tie {
		t.Errorf("tie cleared: %s %v", r, tie)
	}
}
