package halt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// LatchFileSize is the size of a latch file: one record, padded, written
// in place so that a halt needs no new blocks on a full disk.
const LatchFileSize = 4096

// latchMagic starts every latch file.
const latchMagic = "superguard-halt-latch 1\n"

// FileLatch is the halt latch as small files that any process allowed to
// read them can check without the state store, its secrets or write access
// (the gate, run as the strategies' user). Each file holds one record of
// LatchFileSize bytes, created once (Prepare) and then overwritten in place
// and fsynced: a halt writes into blocks the file already has, so it is
// recorded on a file system that is full. Paths[0] is the primary (next to
// the state store, it survives a reboot); the others are mirrors (e.g. in
// /run, on another file system, so a halt is still recorded when the
// primary's file system turned read-only). The latch is set when any copy
// says so; a copy that exists but cannot be read or fails its checksum
// makes the latch unknown, and so does a missing primary: callers treat
// unknown as halted (see Halted).
type FileLatch struct {
	Paths []string
	// Mode is the files' permission bits (default 0644: the record holds
	// no secret, and strategies' gates must read it).
	Mode fs.FileMode
	// Warn is told of a copy that could not be written while another was
	// (the latch holds, but one copy is stale). Nil: ignored.
	Warn func(error)
}

var _ Latch = (*FileLatch)(nil)

// latchRecord is what a latch file holds.
type latchRecord struct {
	Latched   bool      `json:"latched"`
	Record    Record    `json:"record,omitzero"`
	ResumedAt time.Time `json:"resumed_at,omitzero"`
	ResumedBy string    `json:"resumed_by,omitempty"`
	Written   time.Time `json:"written"`
}

// Prepare creates every copy that does not exist yet, not latched, at its
// full size (haltguard does this at start-up, while there is room). An
// existing copy is left as it is.
func (l *FileLatch) Prepare() error {
	var errs []error
	for _, p := range l.Paths {
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := l.write(p, latchRecord{}, true); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Get implements Latch.
func (l *FileLatch) Get(context.Context) (LatchState, error) {
	if len(l.Paths) == 0 {
		return LatchState{}, errors.New("halt latch: no latch file configured")
	}
	var st LatchState
	for i, p := range l.Paths {
		r, err := readLatchFile(p)
		if errors.Is(err, fs.ErrNotExist) && i > 0 {
			continue // a mirror in /run is gone after a reboot
		}
		if err != nil {
			return LatchState{}, err
		}
		switch {
		case r.Latched && !st.Latched:
			st = LatchState{Latched: true, Record: r.Record}
		case !r.Latched && !st.Latched && r.ResumedAt.After(st.ResumedAt):
			st.ResumedAt, st.ResumedBy = r.ResumedAt, r.ResumedBy
		}
	}
	return st, nil
}

// Set implements Latch: every copy is written; it fails only when none
// could be (the latch then is not recorded anywhere).
func (l *FileLatch) Set(ctx context.Context, rec Record) error {
	cur, err := l.Get(ctx)
	if err == nil && cur.Latched {
		return nil // a latch already set keeps its first cause
	}
	return l.writeAll(latchRecord{Latched: true, Record: rec}, false)
}

// Complete implements Latch.
func (l *FileLatch) Complete(ctx context.Context, traceID string, at time.Time) error {
	cur, err := l.Get(ctx)
	if err != nil {
		return err
	}
	if !cur.Latched || cur.Record.TraceID != traceID {
		return nil
	}
	cur.Record.Completed = at
	return l.writeAll(latchRecord{Latched: true, Record: cur.Record}, false)
}

// Clear implements Latch: every copy must be cleared, else trading stays
// halted and Clear fails.
func (l *FileLatch) Clear(_ context.Context, by string, at time.Time) error {
	return l.writeAll(latchRecord{ResumedAt: at, ResumedBy: by}, true)
}

// writeAll writes r to every copy. all: every write must succeed;
// otherwise one is enough and the others' failures go to Warn.
func (l *FileLatch) writeAll(r latchRecord, all bool) error {
	var errs []error
	for _, p := range l.Paths {
		if err := l.write(p, r, false); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case len(errs) == 0:
		return nil
	case all || len(errs) == len(l.Paths):
		return errors.Join(errs...)
	}
	if l.Warn != nil {
		l.Warn(errors.Join(errs...))
	}
	return nil
}

// write puts r into the file at path, in place: the file is opened without
// truncation and overwritten from its start with LatchFileSize bytes, then
// fsynced. create: the file (and its directory entry) may be created.
func (l *FileLatch) write(path string, r latchRecord, create bool) error {
	r.Written = time.Now().UTC()
	buf, err := encodeLatch(r)
	if err != nil {
		return fmt.Errorf("halt latch %s: %w", path, err)
	}
	flags := os.O_WRONLY
	if create {
		flags |= os.O_CREATE
	}
	mode := l.Mode
	if mode == 0 {
		mode = 0o644
	}
	f, err := os.OpenFile(path, flags, mode)
	if errors.Is(err, fs.ErrNotExist) && !create {
		// Gone (a mirror in /run after a reboot): create it.
		f, err = os.OpenFile(path, flags|os.O_CREATE, mode)
		create = true
	}
	if err != nil {
		return fmt.Errorf("halt latch %s: %w", path, err)
	}
	_, err = f.WriteAt(buf, 0)
	if err == nil {
		err = f.Sync()
	}
	if create && err == nil {
		// umask may have narrowed the mode; the gate must read the file.
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && create {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("halt latch %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// encodeLatch lays r out as the magic line, the JSON record, its CRC-32 in
// hex, and newlines up to LatchFileSize.
func encodeLatch(r latchRecord) ([]byte, error) {
	js, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(latchMagic)
	b.Write(js)
	fmt.Fprintf(&b, "\n%08x\n", crc32.ChecksumIEEE(js))
	if b.Len() > LatchFileSize {
		return nil, fmt.Errorf("record of %d bytes does not fit in %d (reason too long?)", b.Len(), LatchFileSize)
	}
	b.Write(bytes.Repeat([]byte{'\n'}, LatchFileSize-b.Len()))
	return b.Bytes(), nil
}

// readLatchFile reads and checks one copy. Errors name the file and say
// that the latch is unknown.
func readLatchFile(path string) (latchRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return latchRecord{}, fmt.Errorf("halt latch %s: %w", path, err)
	}
	bad := func(why string) (latchRecord, error) {
		return latchRecord{}, fmt.Errorf("halt latch %s: %s: cannot tell whether trading is halted", path, why)
	}
	rest, ok := bytes.CutPrefix(b, []byte(latchMagic))
	if !ok {
		return bad("not a latch file")
	}
	js, rest, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return bad("truncated")
	}
	sum, _, ok := bytes.Cut(rest, []byte("\n"))
	want, err := strconv.ParseUint(string(sum), 16, 32)
	if !ok || err != nil || uint32(want) != crc32.ChecksumIEEE(js) {
		return bad("checksum mismatch (a torn or tampered write)")
	}
	var r latchRecord
	if err := json.Unmarshal(js, &r); err != nil {
		return bad(err.Error())
	}
	return r, nil
}

// Latches is the latch haltguard keeps: the latch files (what the gate
// reads; set first, in place, so that a halt is recorded on a full disk)
// and the store's latch (the history, and what the other listeners read).
// Latched when either says so; unknown when the files cannot be read.
type Latches struct {
	Files *FileLatch
	Store Latch
	// Warn is told of the store's failures that do not fail the latch (a
	// halt recorded in the files but not in the store). Nil: ignored.
	Warn func(error)
}

var _ Latch = Latches{}

// Get implements Latch. The files decide; a store that says latched while
// the files do not (a latch set before the files existed) is latched too.
// A store that cannot be read does not hide a latch the files hold.
func (l Latches) Get(ctx context.Context) (LatchState, error) {
	st, err := l.Files.Get(ctx)
	if err != nil {
		return LatchState{}, err
	}
	sst, serr := l.Store.Get(ctx)
	switch {
	case serr != nil:
		l.warn(fmt.Errorf("read the store's halt latch: %w", serr))
	case sst.Latched && !st.Latched:
		return sst, nil
	case !st.Latched && sst.ResumedAt.After(st.ResumedAt):
		st.ResumedAt, st.ResumedBy = sst.ResumedAt, sst.ResumedBy
	}
	return st, nil
}

// Set implements Latch: the files first (in place: no new blocks), then
// the store. It fails only when the files could not be written.
func (l Latches) Set(ctx context.Context, rec Record) error {
	if err := l.Files.Set(ctx, rec); err != nil {
		if serr := l.Store.Set(ctx, rec); serr != nil {
			return errors.Join(err, serr)
		}
		// Recorded in the store: haltguard copies it to the files when it
		// starts (SyncFiles).
		l.warn(fmt.Errorf("halt recorded in the store but not in the latch files: %w", err))
		return nil
	}
	// The store is the history and what other listeners read: tried once,
	// briefly (a locked store waits out its busy timeout), and copied from
	// the files when the halt completes or haltguard starts (SyncFiles).
	sctx, cancel := context.WithTimeout(ctx, storeWithin)
	defer cancel()
	if err := l.Store.Set(sctx, rec); err != nil {
		l.warn(fmt.Errorf("halt recorded in the latch files but not yet in the store: %w", err))
	}
	return nil
}

// storeWithin bounds Latches.Set's write to the store: the files already
// hold the halt, and the event that caused it waits for Set.
const storeWithin = time.Second

// Complete implements Latch, first copying a halt the store missed into
// it.
func (l Latches) Complete(ctx context.Context, traceID string, at time.Time) error {
	ferr := l.Files.Complete(ctx, traceID, at)
	if st, err := l.Files.Get(ctx); err == nil && st.Latched {
		if sst, err := l.Store.Get(ctx); err == nil && !sst.Latched {
			if err := l.Store.Set(ctx, st.Record); err != nil {
				return errors.Join(ferr, err)
			}
		}
	}
	return errors.Join(ferr, l.Store.Complete(ctx, traceID, at))
}

// Clear implements Latch: the store first, then the files, so that a
// resume that cannot be recorded everywhere leaves trading halted.
func (l Latches) Clear(ctx context.Context, by string, at time.Time) error {
	if err := l.Store.Clear(ctx, by, at); err != nil {
		return err
	}
	return l.Files.Clear(ctx, by, at)
}

// SyncFiles creates the latch files that do not exist yet and copies a
// latch one side holds and the other does not across (haltguard does this
// at start-up).
func (l Latches) SyncFiles(ctx context.Context) error {
	if err := l.Files.Prepare(); err != nil {
		return err
	}
	st, err := l.Files.Get(ctx)
	if err != nil {
		return err
	}
	sst, err := l.Store.Get(ctx)
	switch {
	case err != nil:
		return err
	case sst.Latched && !st.Latched:
		return l.Files.Set(ctx, sst.Record)
	case st.Latched && !sst.Latched && !sst.ResumedAt.After(st.Record.Since):
		// Not when the store was resumed after this halt: a resume clears
		// the store first and the files next, and must not be undone in
		// between.
		return l.Store.Set(ctx, st.Record)
	}
	return nil
}

func (l Latches) warn(err error) {
	if l.Warn != nil {
		l.Warn(err)
	}
}
