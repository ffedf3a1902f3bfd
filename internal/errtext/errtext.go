// Package errtext rewrites an error's text (a secret scrubbed, a file line
// added) without losing its chain.
package errtext

// Replace returns an error whose text is msg and which unwraps to err, so
// that errors.Is and errors.As still see err's chain. A nil err stays nil.
func Replace(err error, msg string) error {
	if err == nil {
		return nil
	}
	return &replaced{msg: msg, err: err}
}

type replaced struct {
	msg string
	err error
}

func (e *replaced) Error() string { return e.msg }
func (e *replaced) Unwrap() error { return e.err }
