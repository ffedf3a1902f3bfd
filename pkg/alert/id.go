package alert

import (
	"crypto/rand"
	"encoding/hex"
)

// NewTraceID returns a new random trace id (16 hex digits), shared by the
// log lines and alerts of one incident.
func NewTraceID() string { return RandomHex(8) }

// RandomHex returns n random bytes as 2n hex digits: the one id generator
// of superguard (trace ids, incident ids, sender owners).
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
