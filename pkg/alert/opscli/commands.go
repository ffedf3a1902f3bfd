package opscli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/state"
)

// Incident is one row of `incidents -json`.
type Incident struct {
	ID           string            `json:"id"`
	Key          string            `json:"key"`
	Status       string            `json:"status"`
	Severity     string            `json:"severity"`
	Count        int               `json:"count"`
	FirstSeen    time.Time         `json:"first_seen"`
	LastSeen     time.Time         `json:"last_seen"`
	LastNotified *time.Time        `json:"last_notified,omitempty"`
	ResolvedAt   *time.Time        `json:"resolved_at,omitempty"`
	Listeners    map[string]int    `json:"listeners"`
	Summary      string            `json:"summary"`
	Action       string            `json:"action,omitempty"`
	Details      map[string]string `json:"details,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func incidents(ctx context.Context, s *state.Store, out io.Writer, asJSON, all bool, since time.Duration) error {
	var incs []*state.Incident
	var err error
	if all {
		incs, err = s.RecentIncidents(ctx, time.Now().Add(-since), 0)
	} else {
		incs, err = s.OpenIncidents(ctx)
	}
	if err != nil {
		return err
	}
	return list(out, incs, asJSON, "no incidents", func(i *state.Incident) Incident {
		return Incident{ID: i.ID, Key: i.Key, Status: string(i.Status), Severity: i.Severity.String(),
			Count: i.Count, FirstSeen: i.FirstSeen, LastSeen: i.LastSeen, LastNotified: optTime(i.LastNotified),
			ResolvedAt: optTime(i.ResolvedAt), Listeners: i.Listeners, Summary: i.Alert.Summary,
			Action: i.Alert.Action, Details: i.Alert.Details}
	}, []string{"ID", "KEY", "SEVERITY", "STATUS", "COUNT", "FIRST SEEN", "LAST SEEN", "LAST NOTIFIED", "LISTENERS", "SUMMARY"},
		func(i *state.Incident) []string {
			return []string{i.ID, i.Key, i.Severity.String(), string(i.Status), strconv.Itoa(i.Count),
				stamp(i.FirstSeen), stamp(i.LastSeen), stamp(i.LastNotified), strings.Join(slices.Sorted(maps.Keys(i.Listeners)), ","),
				clip(i.Alert.Summary, 60)}
		})
}

// list writes items as JSON rows made by toJSON (asJSON), else as a table
// of header and the rows made by toRow, or the line empty when there are
// none.
func list[T, J any](out io.Writer, items []T, asJSON bool, empty string, toJSON func(T) J, header []string, toRow func(T) []string) error {
	if asJSON {
		rows := make([]J, 0, len(items))
		for _, it := range items {
			rows = append(rows, toJSON(it))
		}
		return writeJSON(out, rows)
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(out, empty)
		return err
	}
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, toRow(it))
	}
	return table(out, header, rows)
}

// Delivery is one row of `outbox -json`.
type Delivery struct {
	ID            int64      `json:"id"`
	Sink          string     `json:"sink"`
	Status        string     `json:"status"`
	Purpose       string     `json:"purpose"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	Key           string     `json:"key"`
	IncidentID    string     `json:"incident_id"`
	Severity      string     `json:"severity"`
	Count         int        `json:"count"`
	Summary       string     `json:"summary"`
	LastError     string     `json:"last_error,omitempty"`
}

func outbox(ctx context.Context, s *state.Store, out io.Writer, asJSON bool, f state.Filter) error {
	ds, err := s.ListDeliveries(ctx, f)
	if err != nil {
		return err
	}
	waiting := func(d *state.Delivery) bool { return d.Status == state.Pending || d.Status == state.Sending }
	return list(out, ds, asJSON, "no deliveries", func(d *state.Delivery) Delivery {
		var next *time.Time
		if waiting(d) {
			next = optTime(d.NextAttemptAt)
		}
		n := d.Notification
		return Delivery{ID: d.ID, Sink: d.Sink, Status: string(d.Status), Purpose: string(d.Purpose),
			Attempts: d.Attempts, NextAttemptAt: next, CreatedAt: d.CreatedAt, SentAt: optTime(d.SentAt),
			Key: n.Key, IncidentID: n.IncidentID, Severity: n.Severity.String(), Count: n.Count,
			Summary: n.Summary, LastError: d.LastError}
	}, []string{"ID", "SINK", "STATUS", "PURPOSE", "ATTEMPTS", "NEXT ATTEMPT", "KEY", "INCIDENT", "LAST ERROR"},
		func(d *state.Delivery) []string {
			next := "-"
			if waiting(d) {
				next = stamp(d.NextAttemptAt)
			}
			return []string{strconv.FormatInt(d.ID, 10), d.Sink, string(d.Status), string(d.Purpose),
				strconv.Itoa(d.Attempts), next, d.Notification.Key, d.Notification.IncidentID, clip(cmp.Or(d.LastError, "-"), 60)}
		})
}

func retry(ctx context.Context, s *state.Store, out io.Writer, asJSON bool, args []string, allDead bool) error {
	var queued []int64
	switch {
	case allDead && len(args) > 0:
		return usageError("give delivery ids or --all-dead, not both")
	case allDead:
		var err error
		if queued, err = s.RetryAllDead(ctx, time.Now()); err != nil {
			return err
		}
	case len(args) == 0:
		return usageError("give the ids of dead deliveries (see `outbox --dead`), or --all-dead")
	default:
		ids, err := parseIDs(args)
		if err != nil {
			return err
		}
		for _, id := range ids {
			q, err := s.Retry(ctx, id, time.Now())
			if err != nil {
				return partial(out, asJSON, "requeued", queued, err)
			}
			queued = append(queued, q...)
		}
	}
	return report(out, asJSON, "requeued", queued)
}

func drop(ctx context.Context, s *state.Store, out io.Writer, asJSON bool, args []string) error {
	if len(args) == 0 {
		return usageError("give the ids of the deliveries to drop (see `outbox`)")
	}
	ids, err := parseIDs(args)
	if err != nil {
		return err
	}
	for i, id := range ids {
		if err := s.Drop(ctx, id, time.Now()); err != nil {
			return partial(out, asJSON, "dropped", ids[:i], err)
		}
	}
	return report(out, asJSON, "dropped", ids)
}

// partial reports what a command changed before it failed with err, so an
// operator who gave several ids knows which ones took effect, and returns
// err.
func partial(out io.Writer, asJSON bool, verb string, done []int64, err error) error {
	if len(done) > 0 {
		if rerr := report(out, asJSON, verb, done); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// report prints what a command changed: `verb 3 4` or {"verb": [3, 4]}.
func report(out io.Writer, asJSON bool, verb string, ids []int64) error {
	if ids == nil {
		ids = []int64{}
	}
	if asJSON {
		return writeJSON(out, map[string][]int64{verb: ids})
	}
	if len(ids) == 0 {
		_, err := fmt.Fprintf(out, "nothing %s\n", verb)
		return err
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.FormatInt(id, 10)
	}
	_, err := fmt.Fprintf(out, "%s %s\n", verb, strings.Join(strs, " "))
	return err
}
