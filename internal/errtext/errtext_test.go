package errtext

import (
	"errors"
	"io/fs"
	"testing"
)

func TestReplaceKeepsTheChain(t *testing.T) {
	orig := &fs.PathError{Op: "open", Path: "/secret/token", Err: fs.ErrNotExist}
	err := Replace(orig, "open xxxxx: file does not exist")
	if err.Error() != "open xxxxx: file does not exist" {
		t.Errorf("Error() = %q", err.Error())
	}
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe != orig {
		t.Errorf("chain lost: Is %v, As %v", errors.Is(err, fs.ErrNotExist), errors.As(err, &pe))
	}
	if Replace(nil, "x") != nil {
		t.Error("Replace(nil) != nil")
	}
}
