package eventlistener

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// BenchmarkLoop drives Run in lockstep through io.Pipe, as supervisord does
// through the listener's stdin and stdout: write one event, wait for
// RESULT 2\nOK and READY, repeat. It reports events/s and allocs/op (one op
// is one event).
func BenchmarkLoop(b *testing.B) {
	payloads := []struct {
		name, event, payload string
	}{
		{"state", "PROCESS_STATE_EXITED", "processname:engine groupname:strategies from_state:RUNNING expected:0 pid:4242"},
		{"log-multibyte", "PROCESS_LOG_STDOUT", "processname:engine groupname:strategies pid:4242 channel:stdout\nfill 10@101.5 \u20ac na\u00efve \u2713 \u65e5\u672c \U0001F600\n"},
	}
	contexts := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		// context.Background cannot be cancelled: Run reads directly.
		{"direct", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }},
		// io.Pipe has no read deadline: a cancellable ctx makes Run read
		// through a goroutine.
		{"reader-goroutine", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
	}
	for _, p := range payloads {
		for _, c := range contexts {
			b.Run(p.name+"/"+c.name, func(b *testing.B) {
				benchLoop(b, c.ctx, p.event, p.payload)
			})
		}
	}
}

func benchLoop(b *testing.B, mkctx func() (context.Context, context.CancelFunc), event, payload string) {
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	ctx, cancel := mkctx()
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, stdinR, stdoutW, HandlerFunc(func(context.Context, *Event) error { return nil }),
			Options{Instance: "bench"})
		stdoutW.Close()
	}()
	want := []byte("RESULT 2\nOKREADY\n")
	buf := make([]byte, 256)
	readFull := func(want []byte) {
		if _, err := io.ReadFull(stdoutR, buf[:len(want)]); err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(buf[:len(want)], want) {
			b.Fatalf("got %q, want %q", buf[:len(want)], want)
		}
	}
	readFull([]byte("READY\n"))
	frames := make([][]byte, 64) // distinct serials, so none is a redelivery
	for i := range frames {
		h := Header{Ver: "3.0", Server: "supervisor", Serial: int64(i), Pool: "bench", PoolSerial: int64(i),
			EventName: event, Len: len([]rune(payload))}
		frames[i] = []byte(h.String() + "\n" + payload)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := stdinW.Write(frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
		readFull(want)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.StopTimer()
	stdinW.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
