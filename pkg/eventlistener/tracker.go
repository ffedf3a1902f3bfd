package eventlistener

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// received is the identity of the last event received, as persisted in
// Options.StateFile.
type received struct {
	Instance   string `json:"instance"`
	Pool       string `json:"pool"`
	Serial     int64  `json:"serial"`
	PoolSerial int64  `json:"poolserial"`
	Attempt    int    `json:"attempt"`
}

// observation is what the tracker concludes about an event just received.
type observation struct {
	attempt     int
	redelivered bool
	missed      int64 // poolserial gap: events dropped before this one
	// poolReset: same instance and pool but poolserial went back (a
	// supervisord `reload` recreates pools; serial keeps counting).
	poolReset bool
}

// tracker recognises re-sent events and poolserial gaps. An event's
// identity is (supervisord instance, pool, serial): serial alone restarts at
// 0 with supervisord.
type tracker struct {
	instance string
	last     received
	have     bool
	state    *stateFile // nil: memory only
}

// newTracker loads path (if not "") and returns a tracker for instance. A
// state file from another supervisord instance, or a missing one, starts
// afresh; a corrupt one is reported in err but still yields a usable
// tracker that starts afresh (the file is rewritten on the next event).
func newTracker(path, instance string) (*tracker, error) {
	t := &tracker{instance: instance}
	if path == "" {
		return t, nil
	}
	sf, err := openStateFile(path)
	if err != nil {
		return nil, err
	}
	t.state = sf
	last, ok, err := sf.load()
	if err != nil {
		return t, err
	}
	if ok && last.Instance == instance {
		// Trusted only if it can be kept current: a file that cannot be
		// written now may be stale from a save that failed before this
		// start, and a stale poolserial would make the next event look
		// like dropped events.
		if err := sf.save(last); err != nil {
			return t, fmt.Errorf("%w: not trusted, since it cannot be kept current: re-sent events and gaps are not recognised across this restart", err)
		}
		t.last, t.have = last, true
	}
	return t, nil
}

// observe records h as received and says whether it was received before
// and how many events of its pool were dropped just before it.
func (t *tracker) observe(h Header) observation {
	o := observation{attempt: 1}
	if t.have && t.last.Pool == h.Pool {
		switch {
		case h.Serial == t.last.Serial:
			o.attempt, o.redelivered = t.last.Attempt+1, true
		case h.PoolSerial > t.last.PoolSerial+1:
			o.missed = h.PoolSerial - t.last.PoolSerial - 1
		case h.PoolSerial <= t.last.PoolSerial:
			o.poolReset = true
		}
	}
	t.last = received{Instance: t.instance, Pool: h.Pool, Serial: h.Serial, PoolSerial: h.PoolSerial, Attempt: o.attempt}
	t.have = true
	return o
}

// save persists the last received identity (a no-op without a state file).
//
// A save that fails removes the file (removing needs no free space), so
// that a restart starts afresh instead of from an older event, which
// would look like a poolserial gap.
func (t *tracker) save() error {
	if t.state == nil {
		return nil
	}
	err := t.state.save(t.last)
	if err != nil {
		if rerr := os.Remove(t.state.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("%w (and the stale file could not be removed: %v)", err, rerr)
		}
	}
	return err
}

func (t *tracker) close() error {
	if t.state == nil {
		return nil
	}
	return t.state.close()
}

// stateFile writes a small JSON file atomically: a temporary file in the
// same directory renamed over the old one, so a listener killed at any
// point leaves the old record or the new one, never half of one. It is
// not fsynced: the record matters only while the same supervisord runs
// (the instance names its pid, start time and boot id), and a host crash,
// the only way to lose a written page, also ends that supervisord; a
// record torn by one is another instance's or unreadable, and the tracker
// starts afresh. (Two fsyncs per event were most of an event's ack time:
// BenchmarkScrape in integration/exporter, ack p99 5.7 ms with them and
// 2.3 ms without the file in one run; 3.6-4.9 ms with the file written
// without them against 3.1-3.3 ms without it.)
type stateFile struct {
	path string
	tmp  string
	dir  *os.File
	buf  []byte
}

func openStateFile(path string) (*stateFile, error) {
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return &stateFile{path: path, tmp: path + ".tmp", dir: dir}, nil
}

func (s *stateFile) load() (received, bool, error) {
	var r received
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("state file %s: %w", s.path, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return received{}, false, fmt.Errorf("state file %s: %w", s.path, err)
	}
	return r, true, nil
}

func (s *stateFile) save(r received) (err error) {
	s.buf, err = json.Marshal(r)
	if err != nil {
		return fmt.Errorf("state file %s: %w", s.path, err)
	}
	s.buf = append(s.buf, '\n')
	f, err := os.OpenFile(s.tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("state file %s: %w", s.path, err)
	}
	_, err = f.Write(s.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.tmp, s.path)
	}
	if err != nil {
		return fmt.Errorf("state file %s: %w", s.path, err)
	}
	return nil
}

func (s *stateFile) close() error { return s.dir.Close() }
