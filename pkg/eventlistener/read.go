package eventlistener

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

const (
	// readBufferSize is the bufio buffer; a header line must fit in it.
	readBufferSize = 16 << 10
	// maxPayloadLen bounds a payload's len (characters or bytes). supervisord's
	// largest payloads are log chunks and capture buffers, far below this; a
	// larger len means the stream is garbage.
	maxPayloadLen = 64 << 20
	// maxQuoted bounds how much raw input an error message quotes.
	maxQuoted = 256
)

// frame is one event as read from the stream, before its payload is parsed.
type frame struct {
	h       Header
	payload string
}

// frameReader reads headers and payloads from supervisord's side of the
// protocol. It is not safe for concurrent use.
type frameReader struct {
	br      *bufio.Reader
	dialect Dialect
	buf     []byte // payload bytes, reused between events
}

func newFrameReader(r io.Reader, d Dialect) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, readBufferSize), dialect: d}
}

// next reads one header line and its payload. It returns io.EOF when the
// stream ends cleanly between events, an error wrapping io.ErrUnexpectedEOF
// when it ends inside one, and an error wrapping ErrProtocol when the header
// cannot be parsed.
func (fr *frameReader) next() (frame, error) {
	line, err := fr.br.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && len(line) == 0:
		return frame{}, io.EOF
	case errors.Is(err, io.EOF):
		return frame{}, fmt.Errorf("header %s: %w", quote(line), io.ErrUnexpectedEOF)
	case errors.Is(err, bufio.ErrBufferFull):
		return frame{}, fmt.Errorf("%w: header line longer than %d bytes: %s", ErrProtocol, len(line), quote(line))
	default:
		return frame{}, fmt.Errorf("read header: %w", err)
	}
	h, err := ParseHeader(string(line))
	if err != nil {
		return frame{}, fmt.Errorf("%w: header %s: %w", ErrProtocol, quote(line), err)
	}
	if h.Len > maxPayloadLen {
		return frame{}, fmt.Errorf("%w: header %s: len %d is over the %d limit", ErrProtocol, quote(line), h.Len, maxPayloadLen)
	}
	var payload []byte
	if fr.dialect == GoSupervisord {
		payload, err = fr.readBytes(h.Len)
	} else {
		payload, err = fr.readChars(h.Len)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, fmt.Errorf("payload of %s serial %d: %w", h.EventName, h.Serial, err)
	}
	return frame{h: h, payload: string(payload)}, nil
}

// readBytes reads exactly n bytes (Go supervisord's len).
func (fr *frameReader) readBytes(n int) ([]byte, error) {
	buf := fr.buf[:0]
	for len(buf) < n {
		buf = grow(buf, n-len(buf))
		k, err := io.ReadFull(fr.br, buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+k]
		if err != nil {
			fr.buf = buf
			return buf, err
		}
	}
	fr.buf = buf
	return buf, nil
}

// readChars reads exactly n characters (Unicode code points, real
// supervisord's len) and returns their bytes. It walks the bytes already
// buffered rune by rune and only falls back to ReadRune for a character
// split across two reads; it never asks for bytes beyond the n-th character,
// which would block until the next event. A byte that is not valid UTF-8
// counts as one character and is kept as it is (supervisord never sends
// one: it encodes a str, and replaces undecodable output with
// `Undecodable: b'...'`).
func (fr *frameReader) readChars(n int) ([]byte, error) {
	buf := grow(fr.buf[:0], n)
	for n > 0 {
		if fr.br.Buffered() == 0 {
			if _, err := fr.br.Peek(1); err != nil {
				fr.buf = buf
				return buf, err
			}
		}
		avail, _ := fr.br.Peek(fr.br.Buffered())
		i := 0
		for i < len(avail) && n > 0 {
			if avail[i] < utf8.RuneSelf {
				i++
			} else if utf8.FullRune(avail[i:]) {
				_, size := utf8.DecodeRune(avail[i:])
				i += size
			} else {
				break // the rest of this character is not read yet
			}
			n--
		}
		buf = append(buf, avail[:i]...)
		_, _ = fr.br.Discard(i) // i <= Buffered: cannot fail
		if n > 0 && i < len(avail) {
			// A character split across reads: ReadRune waits for exactly
			// the bytes it needs.
			r, size, err := fr.br.ReadRune()
			if err != nil {
				fr.buf = buf
				return buf, err
			}
			if r == utf8.RuneError && size == 1 {
				// Invalid and truncated: keep the raw byte.
				_ = fr.br.UnreadRune()
				b, _ := fr.br.ReadByte()
				buf = append(buf, b)
			} else {
				buf = utf8.AppendRune(buf, r)
			}
			n--
		}
	}
	fr.buf = buf
	return buf, nil
}

// grow returns b with room for n more bytes, capping the up-front
// allocation so that a large len cannot allocate before bytes arrive.
func grow(b []byte, n int) []byte {
	const maxPrealloc = 1 << 20
	if n > maxPrealloc {
		n = maxPrealloc
	}
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		return nb
	}
	return b
}

// quote returns b as a Go-quoted string, truncated to maxQuoted bytes.
func quote(b []byte) string {
	if len(b) > maxQuoted {
		return fmt.Sprintf("%q... (%d bytes)", b[:maxQuoted], len(b))
	}
	return fmt.Sprintf("%q", b)
}
