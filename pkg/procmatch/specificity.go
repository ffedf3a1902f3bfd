package procmatch

import "strings"

// Specificity ranks how narrowly a pattern selects a process, for settings
// where the most specific one wins (memguard's limits): a process's own
// full name beats its program, a program beats its group, a group beats
// every process, and a literal name beats a glob at the same level.
type Specificity int

// Specificities, least specific first.
const (
	NoMatch     Specificity = iota
	AnyProcess              // "*", "*:*"
	GroupGlob               // "trad*" selecting by group, "trad*:*"
	Group                   // "trading" selecting by group, "trading:*"
	ProgramGlob             // "mm_*" selecting by program, "*:mm_*", "trading:mm_*"
	Program                 // "mm" selecting by program, "*:mm", "trad*:mm"
	Process                 // "trading:mm_00"
)

var specificityNames = [...]string{"no match", "any process", "group glob", "group", "program glob", "program", "process"}

// String names the level ("group", "program glob", ...).
func (s Specificity) String() string {
	if s < 0 || int(s) >= len(specificityNames) {
		return "unknown"
	}
	return specificityNames[s]
}

// Rank returns how specifically pattern p selects the process name in
// group, or NoMatch when it does not select it. A bare word is ranked by
// what it matched: the program name (Program) or, failing that, the group
// (Group).
func Rank(p, group, name string) Specificity {
	if !Match(p, group, name) {
		return NoMatch
	}
	g, n, colon := strings.Cut(p, ":")
	if !colon {
		if ok := matchName(p, name); ok {
			return level(p, ProgramGlob, Program, p == "*")
		}
		return level(p, GroupGlob, Group, false)
	}
	switch {
	case n == "*":
		return level(g, GroupGlob, Group, g == "*")
	case isGlob(n):
		return ProgramGlob
	case isGlob(g):
		return Program
	default:
		return Process
	}
}

func matchName(p, name string) bool { return Match(p, "", name) }

// level is literal for a pattern without glob characters, glob for one
// with them, and AnyProcess for a pattern selecting everything.
func level(p string, glob, literal Specificity, all bool) Specificity {
	switch {
	case all:
		return AnyProcess
	case isGlob(p):
		return glob
	default:
		return literal
	}
}

// isGlob reports whether p has shell glob characters.
func isGlob(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// Best returns the index of the pattern list (one list per setting) that
// most specifically selects the process name in group, its rank, and
// whether another list selects it as specifically (a tie -check refuses).
// A list's rank is that of its most specific pattern. It returns -1 when
// no list selects the process.
func Best(lists [][]string, group, name string) (best int, rank Specificity, tie bool) {
	best = -1
	for i, l := range lists {
		r := NoMatch
		for _, p := range l {
			r = max(r, Rank(p, group, name))
		}
		switch {
		case r == NoMatch:
		case r > rank:
			best, rank, tie = i, r, false
		case r == rank:
			tie = true
		}
	}
	return best, rank, tie
}
