package state

import (
	"context"
	"fmt"
)

// migrations is the schema history: migrations[i] takes the database from
// user_version i to i+1. Entries are append-only once shipped; a change to
// the schema is a new entry.
var migrations = []string{
	// 1: the first schema.
	`
CREATE TABLE processed (
	source_id TEXT NOT NULL,
	key       TEXT NOT NULL,
	at        INTEGER NOT NULL,
	PRIMARY KEY (source_id, key)
) WITHOUT ROWID;
CREATE INDEX processed_at ON processed (at);

CREATE TABLE alert_keys (
	key              TEXT PRIMARY KEY,
	last_incident_id TEXT NOT NULL DEFAULT '',
	last_trigger_at  INTEGER NOT NULL DEFAULT 0,
	last_severity    INTEGER NOT NULL DEFAULT 0,
	unreported       INTEGER NOT NULL DEFAULT 0,
	changes          TEXT NOT NULL DEFAULT '[]',
	updated_at       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE incidents (
	id            TEXT PRIMARY KEY,
	key           TEXT NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
	severity      INTEGER NOT NULL,
	first_seen    INTEGER NOT NULL,
	last_seen     INTEGER NOT NULL,
	resolved_at   INTEGER NOT NULL DEFAULT 0,
	count         INTEGER NOT NULL,
	notified      INTEGER NOT NULL DEFAULT 0,
	last_notified INTEGER NOT NULL DEFAULT 0,
	alert         TEXT NOT NULL,
	actions       TEXT NOT NULL DEFAULT '[]',
	listeners     TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
CREATE UNIQUE INDEX incidents_open_key ON incidents (key) WHERE status = 'open';
CREATE INDEX incidents_status ON incidents (status, last_notified);
CREATE INDEX incidents_resolved ON incidents (resolved_at) WHERE status = 'resolved';

CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	sink            TEXT NOT NULL,
	incident_id     TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	key             TEXT NOT NULL,
	kind            TEXT NOT NULL CHECK (kind IN ('trigger', 'resolve')),
	purpose         TEXT NOT NULL,
	notification    TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'cancelled')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	sent_at         INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	ref             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_queue ON outbox (sink, status, id);
CREATE INDEX outbox_incident ON outbox (incident_id, sink);
CREATE INDEX outbox_status ON outbox (status, updated_at);

CREATE TABLE sender_leases (
	sink       TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	pid        INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE halt_latch (
	id            INTEGER PRIMARY KEY CHECK (id = 1),
	latched       INTEGER NOT NULL,
	reason        TEXT NOT NULL,
	process       TEXT NOT NULL,
	process_state TEXT NOT NULL,
	trace_id      TEXT NOT NULL,
	actor         TEXT NOT NULL,
	since         INTEGER NOT NULL,
	completed     INTEGER NOT NULL
);
INSERT INTO halt_latch (id, latched, reason, process, process_state, trace_id, actor, since, completed)
	VALUES (1, 0, '', '', '', '', '', 0, 0);

CREATE TABLE halt_history (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	at       INTEGER NOT NULL,
	action   TEXT NOT NULL CHECK (action IN ('set', 'complete', 'clear')),
	reason   TEXT NOT NULL,
	process  TEXT NOT NULL,
	trace_id TEXT NOT NULL,
	actor    TEXT NOT NULL
);

CREATE TABLE restarts (
	process TEXT NOT NULL,
	at      INTEGER NOT NULL
);
CREATE INDEX restarts_process_at ON restarts (process, at);

CREATE TABLE heartbeats (
	listener   TEXT PRIMARY KEY,
	tick       INTEGER NOT NULL,
	pid        INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
	// 2: dropped events per listener (poolserial gaps it saw, counted into
	// its heartbeat), and the exporter's per-process counters.
	`
ALTER TABLE heartbeats ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;

CREATE TABLE process_counters (
	process TEXT PRIMARY KEY,
	data    TEXT NOT NULL
) WITHOUT ROWID;
`,
	// 3: marketclock's published session timeline per exchange, and the
	// record of each phase it ran (one row per exchange, day and phase).
	`
CREATE TABLE market_sessions (
	exchange   TEXT PRIMARY KEY,
	data       TEXT NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE market_phases (
	exchange   TEXT NOT NULL,
	day        TEXT NOT NULL,
	phase      TEXT NOT NULL,
	status     TEXT NOT NULL,
	data       TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (exchange, day, phase)
) WITHOUT ROWID;
`,
}

// SchemaVersion returns the schema version this binary writes.
func SchemaVersion() int { return len(migrations) }

// migrate applies the migrations the file lacks, all in one transaction, so
// a crash mid-way leaves the old version intact and two processes opening a
// new file at once migrate it once.
func (s *Store) migrate(ctx context.Context) error {
	return s.Update(ctx, func(tx *Tx) error {
		var v int
		if err := tx.queryRow(`PRAGMA user_version`).Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this binary's %d: upgrade superguard", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.exec(migrations[i]); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", i+1, err)
			}
		}
		if v == len(migrations) {
			return nil
		}
		// PRAGMA takes no bound parameters; the value is our own integer.
		if _, err := tx.exec(fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
		return nil
	})
}
