package harness

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superguard/superguard/internal/testsupport"
)

// Piped is a listener binary driven the way supervisord drives it: through
// its stdin and stdout, one event at a time (lockstep). The benchmarks use
// it to time an event from its first byte to the end of its ack.
type Piped struct {
	Cmd    *exec.Cmd
	Dir    string // its directory: config, stderr log
	in     io.WriteCloser
	out    *bufio.Reader
	pool   string
	serial int64
}

// Ack is a listener's answer to an event it handled, with its next READY.
const Ack = "RESULT 2\nOKREADY\n"

// StartPiped writes yaml ({{.Dir}} replaced by its directory) as
// superguard.yaml, starts the listener built from pkg with -config on it,
// args and the extra environment env, and waits for its first READY. Its
// stderr goes to DIR/listener.err, printed when tb fails.
func StartPiped(tb testing.TB, pkg, yaml string, args []string, env ...string) *Piped {
	tb.Helper()
	dir := tb.TempDir()
	conf := filepath.Join(dir, "superguard.yaml")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(yaml, "{{.Dir}}", dir)), 0o600); err != nil {
		tb.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "listener.err"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(Bin(tb, pkg), append([]string{"-config", conf}, args...)...)
	cmd.Env = append(testsupport.CleanEnv("SUPERGUARD_LOG_LEVEL=info"), env...)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &Piped{Cmd: cmd, Dir: dir, in: in, out: bufio.NewReader(out), pool: filepath.Base(pkg)}
	tb.Cleanup(func() {
		_ = in.Close() // EOF: the listener exits
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = stderr.Close()
		if tb.Failed() {
			log, _ := os.ReadFile(stderr.Name())
			tb.Logf("%s stderr:\n%s", pkg, log)
		}
	})
	line, err := p.out.ReadString('\n')
	if err != nil || line != "READY\n" {
		tb.Fatalf("first line %q, %v: want READY", line, err)
	}
	return p
}

// Event frames the next event as supervisord 4 does (len in characters).
func (p *Piped) Event(name, payload string) []byte {
	p.serial++
	return fmt.Appendf(nil, "ver:3.0 server:supervisor serial:%d pool:%s poolserial:%d eventname:%s len:%d\n%s",
		p.serial, p.pool, p.serial, name, utf8.RuneCountInString(payload), payload)
}

// Serial is the serial of the last event framed.
func (p *Piped) Serial() int64 { return p.serial }

// Send writes one event and waits for its ack; it returns the round trip.
func (p *Piped) Send(tb testing.TB, frame []byte) time.Duration {
	start := time.Now()
	if _, err := p.in.Write(frame); err != nil {
		tb.Fatalf("write event: %v", err)
	}
	var got [len(Ack)]byte
	if _, err := io.ReadFull(p.out, got[:]); err != nil {
		tb.Fatalf("read ack: %v", err)
	}
	d := time.Since(start)
	if string(got[:]) != Ack {
		tb.Fatalf("answer %q, want %q", got, Ack)
	}
	return d
}
