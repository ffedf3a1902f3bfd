package config

import (
	"errors"
	"fmt"
)

// FieldError is a config error at one field, named by its path in the file
// (e.g. "sinks[1].routing_key_env").
type FieldError struct {
	Field string
	Msg   string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// FieldErrorf returns a FieldError at field. Sections decoded outside this
// package (a sink's own config) name fields relative to themselves and
// their caller places them with Under.
func FieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Under places every FieldError of err (one or joined) under the section at
// path: field "channel" in "sinks[1]" becomes "sinks[1].channel", no field
// becomes "sinks[1]". Other errors are returned as they are.
func Under(path string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = Under(path, e)
		}
		return errors.Join(out...)
	}
	fe, ok := err.(*FieldError)
	if !ok {
		return err
	}
	field := path
	if fe.Field != "" {
		field += "." + fe.Field
	}
	return &FieldError{Field: field, Msg: fe.Msg}
}
