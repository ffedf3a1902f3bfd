package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// File probes the age of a file's last modification (a feed handler
// touching a file on every tick).
type File struct {
	Path   string // may hold placeholders
	MaxAge time.Duration
	Now    func() time.Time // default time.Now
}

// Kind implements Prober.
func (f *File) Kind() string { return "file" }

// Probe implements Prober.
func (f *File) Probe(_ context.Context, p Process) Result {
	r := Result{At: time.Now()}
	path := Expand(f.Path, p)
	fi, err := os.Stat(path)
	r = finish(r)
	if err != nil {
		r.Evidence = fmt.Sprintf("cannot read %s: %v", path, errors.Unwrap(err))
		return r
	}
	now := r.At
	if f.Now != nil {
		now = f.Now()
	}
	r.Age = now.Sub(fi.ModTime())
	if r.Age < 0 {
		r.Skew, r.Age = -r.Age, 0
	}
	if r.Age > f.MaxAge {
		r.Evidence = fmt.Sprintf("%s last modified %s ago (max %s): the data is stale", path, r.Age.Round(time.Millisecond), f.MaxAge)
		return r
	}
	r.OK, r.Evidence = true, fmt.Sprintf("%s modified %s ago", path, r.Age.Round(time.Millisecond))
	return r
}
