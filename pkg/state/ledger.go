package state

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/superguard/superguard/pkg/alert"
)

// MarkProcessed records that the alert with this SourceID and Key has been
// handled. It reports false when it had been recorded before: the caller
// then does nothing more (supervisord re-sent an event).
func (t *Tx) MarkProcessed(sourceID, key string, at time.Time) (fresh bool, err error) {
	n, err := t.changes(`INSERT INTO processed (source_id, key, at) VALUES (?, ?, ?)
		ON CONFLICT (source_id, key) DO NOTHING`, sourceID, key, nanos(at))
	if err != nil {
		return false, fmt.Errorf("mark processed %s: %w", key, err)
	}
	return n == 1, nil
}

// KeyState is what the ledger remembers about one dedup key across its
// incidents: when it last notified, how many occurrences it has absorbed
// since, and its recent open/resolve transitions for flap detection.
type KeyState struct {
	Key            string
	LastIncidentID string         // the key's newest incident
	LastTriggerAt  time.Time      // when a trigger notification was last queued (zero: never)
	LastSeverity   alert.Severity // severity of that notification
	Unreported     int            // occurrences recorded since then and not yet reported
	Changes        []time.Time    // recent incident opens and resolves, oldest first
}

const keyColumns = `key, last_incident_id, last_trigger_at, last_severity, unreported, changes`

func scanKey(sc scanner) (KeyState, error) {
	var ks KeyState
	var last int64
	var changesJSON string
	if err := sc.Scan(&ks.Key, &ks.LastIncidentID, &last, &ks.LastSeverity, &ks.Unreported, &changesJSON); err != nil {
		return ks, err
	}
	ks.LastTriggerAt = fromNanos(last)
	var ns []int64
	if err := json.Unmarshal([]byte(changesJSON), &ns); err != nil {
		return ks, fmt.Errorf("key %s: changes: %w", ks.Key, err)
	}
	for _, n := range ns {
		ks.Changes = append(ks.Changes, fromNanos(n))
	}
	return ks, nil
}

// Key returns the state of key; a key never seen has only Key set.
func (t *Tx) Key(key string) (KeyState, error) {
	ks, found, err := queryOne(t, scanKey, `SELECT `+keyColumns+` FROM alert_keys WHERE key = ?`, key)
	if err != nil {
		return ks, fmt.Errorf("key %s: %w", key, err)
	}
	if !found {
		return KeyState{Key: key}, nil
	}
	return ks, nil
}

// PutKey stores ks, replacing what was there.
func (t *Tx) PutKey(ks KeyState, now time.Time) error {
	ns := make([]int64, 0, len(ks.Changes))
	for _, c := range ks.Changes {
		ns = append(ns, nanos(c))
	}
	changes, err := json.Marshal(ns)
	if err != nil {
		return fmt.Errorf("key %s: %w", ks.Key, err)
	}
	_, err = t.exec(`INSERT INTO alert_keys (key, last_incident_id, last_trigger_at, last_severity, unreported, changes, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET last_incident_id = excluded.last_incident_id,
			last_trigger_at = excluded.last_trigger_at, last_severity = excluded.last_severity,
			unreported = excluded.unreported, changes = excluded.changes, updated_at = excluded.updated_at`,
		ks.Key, ks.LastIncidentID, nanos(ks.LastTriggerAt), int(ks.LastSeverity), ks.Unreported, string(changes), nanos(now))
	if err != nil {
		return fmt.Errorf("put key %s: %w", ks.Key, err)
	}
	return nil
}

// KeysWithUnreported returns the keys that absorbed occurrences not yet
// reported and whose last trigger notification is at or before since: the
// candidates for a repeat notification.
func (t *Tx) KeysWithUnreported(since time.Time) ([]KeyState, error) {
	out, err := queryAll(t, scanKey, `SELECT `+keyColumns+` FROM alert_keys
		WHERE unreported > 0 AND last_trigger_at <= ? ORDER BY key`, nanos(since))
	if err != nil {
		return nil, fmt.Errorf("keys with unreported occurrences: %w", err)
	}
	return out, nil
}

// IncidentStatus is open until the condition clears.
type IncidentStatus string

// Incident statuses.
const (
	IncidentOpen     IncidentStatus = "open"
	IncidentResolved IncidentStatus = "resolved"
)

// Incident is one ledger entry: an open-to-resolved span of one dedup key,
// merged from every listener that reported it.
type Incident struct {
	ID           string
	Key          string
	Status       IncidentStatus
	Severity     alert.Severity // highest severity reported
	FirstSeen    time.Time
	LastSeen     time.Time
	ResolvedAt   time.Time // zero while open
	Count        int       // occurrences: the most any one listener reported
	Notified     bool      // a trigger notification has been queued for it
	LastNotified time.Time // last trigger, update, repeat or reminder queued (zero: never)
	// Alert is the merged view: the latest report's fields, details merged
	// over every report, Action the Actions joined, Listener the reporters.
	Alert     alert.Alert
	Actions   []string       // distinct actions, in the order reported
	Listeners map[string]int // reports per listener
}

const incidentColumns = `id, key, status, severity, first_seen, last_seen, resolved_at, count,
	notified, last_notified, alert, actions, listeners`

func scanIncident(sc scanner) (*Incident, error) {
	var inc Incident
	var first, last, resolved, notifiedAt int64
	var alertJSON, actionsJSON, listenersJSON string
	if err := sc.Scan(&inc.ID, &inc.Key, &inc.Status, &inc.Severity, &first, &last, &resolved, &inc.Count,
		&inc.Notified, &notifiedAt, &alertJSON, &actionsJSON, &listenersJSON); err != nil {
		return nil, err
	}
	inc.FirstSeen, inc.LastSeen, inc.ResolvedAt, inc.LastNotified =
		fromNanos(first), fromNanos(last), fromNanos(resolved), fromNanos(notifiedAt)
	if err := json.Unmarshal([]byte(alertJSON), &inc.Alert); err != nil {
		return nil, fmt.Errorf("incident %s: alert: %w", inc.ID, err)
	}
	if err := json.Unmarshal([]byte(actionsJSON), &inc.Actions); err != nil {
		return nil, fmt.Errorf("incident %s: actions: %w", inc.ID, err)
	}
	if err := json.Unmarshal([]byte(listenersJSON), &inc.Listeners); err != nil {
		return nil, fmt.Errorf("incident %s: listeners: %w", inc.ID, err)
	}
	return &inc, nil
}

// OpenIncident returns the open incident of key, or nil when there is none.
func (t *Tx) OpenIncident(key string) (*Incident, error) {
	inc, _, err := queryOne(t, scanIncident, `SELECT `+incidentColumns+` FROM incidents WHERE key = ? AND status = 'open'`, key)
	if err != nil {
		return nil, fmt.Errorf("open incident of %s: %w", key, err)
	}
	return inc, nil
}

// Incident returns the incident with this id, or nil when there is none.
func (t *Tx) Incident(id string) (*Incident, error) {
	inc, _, err := queryOne(t, scanIncident, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("incident %s: %w", id, err)
	}
	return inc, nil
}

// PutIncident inserts or replaces inc. A second open incident for the same
// key is an error (the ledger keeps at most one).
func (t *Tx) PutIncident(inc *Incident) error {
	alertJSON, err := json.Marshal(&inc.Alert)
	if err != nil {
		return fmt.Errorf("put incident %s: %w", inc.ID, err)
	}
	actions := inc.Actions
	if actions == nil {
		actions = []string{}
	}
	actionsJSON, err := json.Marshal(actions)
	if err != nil {
		return fmt.Errorf("put incident %s: %w", inc.ID, err)
	}
	listeners := inc.Listeners
	if listeners == nil {
		listeners = map[string]int{}
	}
	listenersJSON, err := json.Marshal(listeners)
	if err != nil {
		return fmt.Errorf("put incident %s: %w", inc.ID, err)
	}
	_, err = t.exec(`INSERT INTO incidents (`+incidentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET key = excluded.key, status = excluded.status, severity = excluded.severity,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen, resolved_at = excluded.resolved_at,
			count = excluded.count, notified = excluded.notified, last_notified = excluded.last_notified,
			alert = excluded.alert, actions = excluded.actions, listeners = excluded.listeners`,
		inc.ID, inc.Key, string(inc.Status), int(inc.Severity), nanos(inc.FirstSeen), nanos(inc.LastSeen),
		nanos(inc.ResolvedAt), inc.Count, inc.Notified, nanos(inc.LastNotified),
		string(alertJSON), string(actionsJSON), string(listenersJSON))
	if err != nil {
		return fmt.Errorf("put incident %s: %w", inc.ID, err)
	}
	return nil
}

// IncidentsToRemind returns the open, notified incidents whose last
// notification is at or before since, oldest first.
func (t *Tx) IncidentsToRemind(since time.Time) ([]*Incident, error) {
	return t.incidents(`SELECT `+incidentColumns+` FROM incidents
		WHERE status = 'open' AND notified = 1 AND last_notified <= ? ORDER BY last_notified, id`, nanos(since))
}

// OpenIncidents returns every open incident, oldest first.
func (t *Tx) OpenIncidents() ([]*Incident, error) {
	return t.incidents(`SELECT ` + incidentColumns + ` FROM incidents WHERE status = 'open' ORDER BY first_seen, id`)
}

// RecentIncidents returns the incidents that are open or resolved at or after
// since, newest first, at most limit of them (0: no limit).
func (t *Tx) RecentIncidents(since time.Time, limit int) ([]*Incident, error) {
	if limit <= 0 {
		limit = -1
	}
	return t.incidents(`SELECT `+incidentColumns+` FROM incidents
		WHERE status = 'open' OR resolved_at >= ? ORDER BY first_seen DESC, id DESC LIMIT ?`, nanos(since), limit)
}

func (t *Tx) incidents(query string, args ...any) ([]*Incident, error) {
	out, err := queryAll(t, scanIncident, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}
