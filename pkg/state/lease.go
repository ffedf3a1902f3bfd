package state

import (
	"database/sql"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Lease says which process drains a sink's queue. One sender per sink for
// the whole host keeps deliveries in order and the sink's rate limit global.
type Lease struct {
	Sink      string
	Owner     string // a token unique to the holding pipeline
	PID       int    // the holder's process id
	ExpiresAt time.Time
}

// Lease returns the sink's lease, or false when nobody holds one.
func (t *Tx) Lease(sink string) (Lease, bool, error) {
	l := Lease{Sink: sink}
	var exp int64
	err := t.queryRow(`SELECT owner, pid, expires_at FROM sender_leases WHERE sink = ?`, sink).Scan(&l.Owner, &l.PID, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("lease of %s: %w", sink, err)
	}
	l.ExpiresAt = fromNanos(exp)
	return l, true, nil
}

// LeaseAvailable reports whether AcquireLease would succeed for owner at
// now. It only reads, so a process that does not hold the lease can check
// often without taking the write lock.
func (t *Tx) LeaseAvailable(sink, owner string, now time.Time) (bool, error) {
	cur, held, err := t.Lease(sink)
	if err != nil {
		return false, err
	}
	return !held || cur.Owner == owner || !cur.ExpiresAt.After(now) || !processAlive(cur.PID), nil
}

// AcquireLease makes owner (process pid) the sink's sender until until. It
// succeeds when nobody holds the lease, owner already does, the holder's
// lease has expired at now, or the holder's process no longer exists (it was
// killed: its rows left sending are resumed at once, not after the expiry).
func (t *Tx) AcquireLease(sink, owner string, pid int, now, until time.Time) (bool, error) {
	if ok, err := t.LeaseAvailable(sink, owner, now); err != nil || !ok {
		return false, err
	}
	_, err := t.exec(`INSERT INTO sender_leases (sink, owner, pid, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (sink) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, expires_at = excluded.expires_at`,
		sink, owner, pid, nanos(until))
	if err != nil {
		return false, fmt.Errorf("acquire lease of %s: %w", sink, err)
	}
	return true, nil
}

// ReleaseLease gives the sink's lease up if owner holds it.
func (t *Tx) ReleaseLease(sink, owner string) error {
	if _, err := t.exec(`DELETE FROM sender_leases WHERE sink = ? AND owner = ?`, sink, owner); err != nil {
		return fmt.Errorf("release lease of %s: %w", sink, err)
	}
	return nil
}

// processAlive reports whether a process with this pid exists on this host
// (the store is a local file, so every holder runs here). A pid of 0 or less
// counts as alive: only the expiry can free such a lease.
func processAlive(pid int) bool {
	if pid <= 0 {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
