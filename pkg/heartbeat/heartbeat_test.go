package heartbeat

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestBeat(t *testing.T) {
	var b bytes.Buffer
	w := New(&b)
	if err := w.Beat(`{"seq":1}`); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "<!--XSUPERVISOR:BEGIN-->{\"seq\":1}<!--XSUPERVISOR:END-->\n" {
		t.Errorf("frame = %q", got)
	}
	if err := w.Beat("x" + End); err != ErrToken {
		t.Errorf("a token in the data: %v", err)
	}
}

// lockedBuffer records writes whole.
type lockedBuffer struct {
	mu     sync.Mutex
	writes []string
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, string(p))
	return len(p), nil
}

func TestOneWritePerFrame(t *testing.T) {
	var out lockedBuffer
	w := New(&out)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _ = w.Beat("alive") })
	}
	wg.Wait()
	if len(out.writes) != 20 {
		t.Fatalf("%d writes for 20 beats", len(out.writes))
	}
	for _, s := range out.writes {
		if !strings.HasPrefix(s, Begin) || !strings.HasSuffix(s, End+"\n") {
			t.Errorf("write %q is not one whole frame", s)
		}
	}
}
