package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// timeline prints the demo's story as it happens: one line per thing seen,
// each stamped with the time since the demo started. On a terminal it uses
// colour and symbols; otherwise plain ASCII words, so that a log file or a
// test reads it as easily.
type timeline struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	color bool
	now   func() time.Time
}

// Line kinds, each with its plain marker and its coloured symbol.
type mark int

const (
	markInfo mark = iota
	markStep
	markOK
	markFail
	markSkip
	markAlert
	markResolve
)

var marks = map[mark]struct {
	plain, symbol, color string
}{
	markInfo:    {"    ", "  ", ""},
	markStep:    {"==> ", "▶ ", "\x1b[1;36m"},
	markOK:      {"ok  ", "✓ ", "\x1b[32m"},
	markFail:    {"FAIL", "✗ ", "\x1b[1;31m"},
	markSkip:    {"skip", "– ", "\x1b[33m"},
	markAlert:   {"alrt", "⚑ ", "\x1b[35m"},
	markResolve: {"rslv", "↺ ", "\x1b[2;35m"},
}

const colorReset = "\x1b[0m"

// newTimeline writes to w; mode is "auto" (colour when w is a terminal),
// "always" or "never".
func newTimeline(w io.Writer, mode string) (*timeline, error) {
	t := &timeline{w: w, start: time.Now(), now: time.Now}
	switch mode {
	case "always":
		t.color = true
	case "never":
	case "auto", "":
		t.color = isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	default:
		return nil, fmt.Errorf("-color %q: want auto, always or never", mode)
	}
	return t, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// line prints one line of kind m.
func (t *timeline) line(m mark, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	stamp := fmt.Sprintf("[%6.1fs]", t.now().Sub(t.start).Seconds())
	k := marks[m]
	indent := "  "
	if m == markStep {
		indent = ""
	}
	if !t.color {
		fmt.Fprintf(t.w, "%s %s%s %s\n", stamp, indent, k.plain, msg)
		return
	}
	if k.color == "" {
		fmt.Fprintf(t.w, "\x1b[2m%s\x1b[0m %s%s%s\n", stamp, indent, k.symbol, msg)
		return
	}
	fmt.Fprintf(t.w, "\x1b[2m%s\x1b[0m %s%s%s%s%s\n", stamp, indent, k.color, k.symbol, msg, colorReset)
}

func (t *timeline) step(n, total int, format string, args ...any) {
	t.line(markStep, "step %d/%d: "+format, append([]any{n, total}, args...)...)
}

func (t *timeline) info(format string, args ...any) { t.line(markInfo, format, args...) }
func (t *timeline) ok(format string, args ...any)   { t.line(markOK, format, args...) }
func (t *timeline) fail(format string, args ...any) { t.line(markFail, format, args...) }
func (t *timeline) skip(format string, args ...any) { t.line(markSkip, format, args...) }

// raw prints text without a stamp (the banner, the closing table).
func (t *timeline) raw(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, format, args...)
}

// bold wraps s in bold on a terminal.
func (t *timeline) bold(s string) string {
	if !t.color {
		return s
	}
	return "\x1b[1m" + s + colorReset
}

// seconds formats d as "1.23 s" or "45 ms".
func seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// oneLine flattens s to its first line, at most n characters.
func oneLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	if r := []rune(s); len(r) > n {
		s = string(r[:n-3]) + "..."
	}
	return s
}
