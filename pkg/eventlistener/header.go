package eventlistener

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/superguard/superguard/internal/enum"
)

// ErrProtocol marks input that desynchronises the protocol stream: a header
// line that cannot be parsed, or one too long to be a header. After it the
// listener cannot know where the next event starts, so Run returns an error
// wrapping ErrProtocol and the caller exits non-zero (supervisord restarts
// the listener).
var ErrProtocol = errors.New("eventlistener protocol error")

// Dialect says how the supervisord feeding the listener counts `len`.
type Dialect int

const (
	// Supervisor4 is the real supervisord (Python, 3.x/4.x): len counts
	// Unicode characters (code points).
	Supervisor4 Dialect = iota
	// GoSupervisord is github.com/ochinchina/supervisord: len counts bytes.
	GoSupervisord
)

var dialects = enum.Names[Dialect]{Kind: "dialect", Names: []string{"supervisor4", "gosupervisord"}}

// String returns the dialect's flag name: "supervisor4" or "gosupervisord".
func (d Dialect) String() string { return dialects.String(d) }

// ParseDialect parses "supervisor4" or "gosupervisord" (case-insensitive).
func ParseDialect(s string) (Dialect, error) { return dialects.Parse(s) }

// MarshalText implements encoding.TextMarshaler.
func (d Dialect) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (and so flag.TextVar).
func (d *Dialect) UnmarshalText(b []byte) error { return dialects.Unmarshal(d, b) }

// Header is an event's header line:
// `ver:3.0 server:NAME serial:N pool:NAME poolserial:N eventname:NAME len:N`.
type Header struct {
	Ver        string `json:"ver"`
	Server     string `json:"server"`
	Serial     int64  `json:"serial"`
	Pool       string `json:"pool"`
	PoolSerial int64  `json:"poolserial"`
	EventName  string `json:"eventname"`
	Len        int    `json:"len"` // payload length: characters (Supervisor4) or bytes (GoSupervisord)
}

// header keys, one bit each, to check that every key appears exactly once.
const (
	keyVer = 1 << iota
	keyServer
	keySerial
	keyPool
	keyPoolSerial
	keyEventName
	keyLen
	keyAll = keyVer | keyServer | keySerial | keyPool | keyPoolSerial | keyEventName | keyLen
)

// ParseHeader parses one header line (a trailing "\n" is allowed). Tokens are
// separated by spaces and split at their FIRST colon, so values may contain
// colons. A token without a colon continues the previous value (supervisord's
// `identifier`, the server name, may contain spaces). All seven keys must be
// present exactly once; unknown keys are ignored.
func ParseHeader(line string) (Header, error) {
	var h Header
	line = strings.TrimSuffix(line, "\n")
	if line == "" {
		return h, errors.New("empty header line")
	}
	var seen int
	var prev *string // last string value, for continuation tokens
	for tok := range strings.SplitSeq(line, " ") {
		key, val, ok := strings.Cut(tok, ":")
		if !ok {
			if prev == nil {
				return h, fmt.Errorf("header token %q: no colon", tok)
			}
			*prev += " " + tok
			continue
		}
		prev = nil
		var bit int
		var err error
		switch key {
		case "ver":
			bit, h.Ver, prev = keyVer, val, &h.Ver
		case "server":
			bit, h.Server, prev = keyServer, val, &h.Server
		case "serial":
			bit = keySerial
			h.Serial, err = parseCount(val)
		case "pool":
			bit, h.Pool, prev = keyPool, val, &h.Pool
		case "poolserial":
			bit = keyPoolSerial
			h.PoolSerial, err = parseCount(val)
		case "eventname":
			bit, h.EventName = keyEventName, val
		case "len":
			bit = keyLen
			var n int64
			if n, err = parseCount(val); err == nil && n > maxLen {
				err = fmt.Errorf("%q: too large", val)
			}
			h.Len = int(n)
		default:
			continue
		}
		if err != nil {
			return h, fmt.Errorf("header %s: %w", key, err)
		}
		if seen&bit != 0 {
			return h, fmt.Errorf("header %s: given twice", key)
		}
		seen |= bit
	}
	if seen != keyAll {
		return h, fmt.Errorf("header: missing %s", missingKeys(seen))
	}
	if h.EventName == "" {
		return h, errors.New("header eventname: empty")
	}
	return h, nil
}

// maxLen bounds a header's len so that it fits an int everywhere; real
// payloads are far smaller.
const maxLen = 1<<31 - 1

func parseCount(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: not a number", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("%q: negative", s)
	}
	return n, nil
}

func missingKeys(seen int) string {
	names := []string{"ver", "server", "serial", "pool", "poolserial", "eventname", "len"}
	var miss []string
	for i, n := range names {
		if seen&(1<<i) == 0 {
			miss = append(miss, n)
		}
	}
	return strings.Join(miss, ", ")
}

// String formats h as supervisord writes it, without the trailing newline.
func (h Header) String() string {
	b := make([]byte, 0, 96+len(h.Server)+len(h.Pool)+len(h.EventName))
	b = append(b, "ver:"...)
	b = append(b, h.Ver...)
	b = append(b, " server:"...)
	b = append(b, h.Server...)
	b = append(b, " serial:"...)
	b = strconv.AppendInt(b, h.Serial, 10)
	b = append(b, " pool:"...)
	b = append(b, h.Pool...)
	b = append(b, " poolserial:"...)
	b = strconv.AppendInt(b, h.PoolSerial, 10)
	b = append(b, " eventname:"...)
	b = append(b, h.EventName...)
	b = append(b, " len:"...)
	b = strconv.AppendInt(b, int64(h.Len), 10)
	return string(b)
}
