package supervisor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Fault codes of supervisord's XML-RPC API (supervisor/xmlrpc.py Faults).
const (
	FaultUnknownMethod        = 1
	FaultIncorrectParameters  = 2
	FaultBadArguments         = 3
	FaultSignatureUnsupported = 4
	FaultShutdownState        = 6
	FaultBadName              = 10
	FaultBadSignal            = 11
	FaultNoFile               = 20
	FaultNotExecutable        = 21
	FaultFailed               = 30
	FaultAbnormalTermination  = 40
	FaultSpawnError           = 50
	FaultAlreadyStarted       = 60
	FaultNotRunning           = 70
	FaultSuccess              = 80
	FaultAlreadyAdded         = 90
	FaultStillRunning         = 91
	FaultCantReread           = 92
)

var faultNames = map[int]string{
	FaultUnknownMethod:        "UNKNOWN_METHOD",
	FaultIncorrectParameters:  "INCORRECT_PARAMETERS",
	FaultBadArguments:         "BAD_ARGUMENTS",
	FaultSignatureUnsupported: "SIGNATURE_UNSUPPORTED",
	FaultShutdownState:        "SHUTDOWN_STATE",
	FaultBadName:              "BAD_NAME",
	FaultBadSignal:            "BAD_SIGNAL",
	FaultNoFile:               "NO_FILE",
	FaultNotExecutable:        "NOT_EXECUTABLE",
	FaultFailed:               "FAILED",
	FaultAbnormalTermination:  "ABNORMAL_TERMINATION",
	FaultSpawnError:           "SPAWN_ERROR",
	FaultAlreadyStarted:       "ALREADY_STARTED",
	FaultNotRunning:           "NOT_RUNNING",
	FaultSuccess:              "SUCCESS",
	FaultAlreadyAdded:         "ALREADY_ADDED",
	FaultStillRunning:         "STILL_RUNNING",
	FaultCantReread:           "CANT_REREAD",
}

// FaultName returns supervisord's name for a fault code ("BAD_NAME" for 10),
// or "" for a code supervisord does not define.
func FaultName(code int) string {
	return faultNames[code]
}

// Fault is an XML-RPC fault returned by supervisord. Name is the symbolic
// name supervisord puts at the start of the fault string ("BAD_NAME"), and
// Detail the rest (usually the process name). The Go supervisord answers every
// error with code -32500 and free text; Name is "" then.
type Fault struct {
	Code   int
	Name   string
	Detail string
}

// Error returns "NAME: detail (code N)".
func (f *Fault) Error() string {
	name := f.Name
	if name == "" {
		name = "fault"
	}
	if f.Detail == "" {
		return fmt.Sprintf("%s (code %d)", name, f.Code)
	}
	return fmt.Sprintf("%s: %s (code %d)", name, f.Detail, f.Code)
}

// IsFault reports whether err is, or wraps, a *Fault with the given code.
func IsFault(err error, code int) bool {
	var f *Fault
	return errors.As(err, &f) && f.Code == code
}

// newFault builds a Fault from an XML-RPC faultCode and faultString.
// supervisord's fault strings are "NAME: detail" or just "NAME"; the name is
// split off only when it is the upper-case identifier of a code-like word, so
// free text (Go supervisord) stays whole in Detail.
func newFault(code int, faultString string) *Fault {
	f := &Fault{Code: code, Name: FaultName(code), Detail: faultString}
	name, detail, found := strings.Cut(faultString, ":")
	if !isFaultName(name) {
		return f
	}
	if !found {
		detail = ""
	}
	f.Name = name
	f.Detail = strings.TrimPrefix(detail, " ")
	return f
}

// isFaultName reports whether s looks like a supervisord fault name:
// upper-case letters, digits and underscores, starting with a letter.
func isFaultName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// ParseFault parses the error text github.com/kolo/xmlrpc produces for a
// fault, "Fault(60): ALREADY_STARTED: engine" (its FaultError.Error, which
// its rpc-based Client returns as an rpc.ServerError string). It reports
// false when s is not in that form.
func ParseFault(s string) (*Fault, bool) {
	rest, ok := strings.CutPrefix(s, "Fault(")
	if !ok {
		return nil, false
	}
	codeText, faultString, ok := strings.Cut(rest, "): ")
	if !ok {
		// A fault with an empty string is rendered "Fault(N): ".
		codeText, ok = strings.CutSuffix(rest, "):")
		if !ok {
			return nil, false
		}
	}
	code, err := strconv.Atoi(codeText)
	if err != nil {
		return nil, false
	}
	return newFault(code, faultString), true
}
