package testsupport

import (
	"unicode/utf8"

	"github.com/superguard/superguard/pkg/eventlistener"
)

// Envelope renders one event as real supervisord writes it to a listener's
// stdin: the header line (len counted in characters) and the payload.
func Envelope(pool string, serial, poolSerial int64, name, payload string) string {
	h := eventlistener.Header{Ver: "3.0", Server: "supervisor", Serial: serial, Pool: pool,
		PoolSerial: poolSerial, EventName: name, Len: utf8.RuneCountInString(payload)}
	return h.String() + "\n" + payload
}
