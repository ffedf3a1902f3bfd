//go:build !unix

package eventlistener

import (
	"context"
	"io"
)

func newPollReader(context.Context, io.Reader) (io.Reader, func(), bool) { return nil, nil, false }
