package harness

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is a line fragment in supervisord's log that shows an event
// listener in trouble. See the package comment.
type Problem string

// The problems the harness scans supervisord's log for.
const (
	// ProblemUnknownState: a listener broke the protocol and will receive no
	// more events, while its process state still says RUNNING.
	ProblemUnknownState Problem = "UNKNOWN state"
	// ProblemBadResult: a listener's RESULT line could not be parsed.
	ProblemBadResult Problem = "bad result line"
	// ProblemRejected: a listener answered FAIL and the event is re-sent.
	ProblemRejected Problem = "was rejected"
	// ProblemOverflow: a pool's event buffer was full and supervisord dropped
	// its oldest event.
	ProblemOverflow Problem = "event buffer overflowed"
)

// Problems lists every Problem, in the order reports use.
var Problems = []Problem{ProblemUnknownState, ProblemBadResult, ProblemRejected, ProblemOverflow}

// findProblems returns, for each Problem present in log, the lines showing it.
func findProblems(log string) map[Problem][]string {
	found := map[Problem][]string{}
	for line := range strings.Lines(log) {
		for _, p := range Problems {
			if strings.Contains(line, string(p)) {
				found[p] = append(found[p], strings.TrimRight(line, "\r\n"))
			}
		}
	}
	return found
}

// checkProblems turns a findProblems result into test failures: a problem
// neither expected nor tolerated, or an expected problem that is absent.
func checkProblems(found map[Problem][]string, expect, tolerate []Problem) []string {
	var failures []string
	for _, p := range Problems {
		lines := found[p]
		switch {
		case len(lines) > 0 && !slices.Contains(expect, p) && !slices.Contains(tolerate, p):
			failures = append(failures, fmt.Sprintf("supervisord log shows %q %d time(s) (set Options.Expect or Options.Tolerate if the scenario means it):\n%s",
				p, len(lines), strings.Join(firstN(lines, 10), "\n")))
		case len(lines) == 0 && slices.Contains(expect, p):
			failures = append(failures, fmt.Sprintf("supervisord log never showed %q, which Options.Expect says the scenario produces", p))
		}
	}
	return failures
}

func firstN(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(slices.Clip(lines[:n]), fmt.Sprintf("... and %d more", len(lines)-n))
}
