package pipeline

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/session"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/alert/route"
	"github.com/superguard/superguard/pkg/state"
)

// exempt reports whether quiet hours and maintenance must leave a alone.
func exempt(a *alert.Alert) bool {
	return a.Condition == alert.CondHalt || a.Condition == alert.CondBudget
}

// suppressed returns the maintenance window holding a back at now, if any.
func (p *Pipeline) suppressed(a *alert.Alert, now time.Time) (string, bool) {
	if exempt(a) {
		return "", false
	}
	m, ok := route.InMaintenance(p.cfg, a, now)
	if !ok {
		return "", false
	}
	return m.Name, true
}

// flapping reports whether the key's recent changes make it flap.
func (p *Pipeline) flapping(ks *state.KeyState) bool {
	f := p.cfg.Dedup.Flap
	return f.Changes > 0 && len(ks.Changes) >= f.Changes
}

// recordChange appends an incident open or resolve to the key's flap
// history, keeping only the changes that can still count.
func (p *Pipeline) recordChange(ks *state.KeyState, now time.Time) {
	f := p.cfg.Dedup.Flap
	if f.Changes == 0 {
		ks.Changes = nil
		return
	}
	ks.Changes = append(ks.Changes, now)
	keep := ks.Changes[:0]
	for _, c := range ks.Changes {
		if now.Sub(c) < f.Window.Std() {
			keep = append(keep, c)
		}
	}
	if len(keep) > f.Changes {
		keep = keep[len(keep)-f.Changes:]
	}
	ks.Changes = keep
}

// hold is how long after a trigger notification the key's next one waits:
// none for a safety alert (every halt, every resume is sent).
func (p *Pipeline) hold(ks *state.KeyState, a *alert.Alert) time.Duration {
	if a != nil && a.Safety() {
		return 0
	}
	d := p.cfg.Dedup.Window.Std()
	if p.flapping(ks) && p.cfg.Dedup.Flap.Window.Std() > d {
		d = p.cfg.Dedup.Flap.Window.Std()
	}
	return d
}

// trigger records a trigger and queues the notifications it calls for. It
// reports whether it queued any.
func (p *Pipeline) trigger(tx *state.Tx, a *alert.Alert, now time.Time) (bool, error) {
	ks, err := tx.Key(a.Key)
	if err != nil {
		return false, err
	}
	inc, err := tx.OpenIncident(a.Key)
	if err != nil {
		return false, err
	}
	opened := inc == nil
	if opened {
		inc = &state.Incident{ID: newIncidentID(now), Key: a.Key, Status: state.IncidentOpen,
			Severity: a.Severity, FirstSeen: a.Time, Listeners: map[string]int{}}
		ks.LastIncidentID = inc.ID
		p.recordChange(&ks, now)
	}
	upgrade := !opened && a.Severity > inc.Severity
	before := inc.Count
	newAction := merge(inc, a)
	ks.Unreported += inc.Count - before

	// A report that adds no occurrence (another listener seeing the same
	// one) is only worth a notification when it raises the severity or
	// brings a new action.
	due := ks.Unreported > 0 && (ks.LastTriggerAt.IsZero() || now.Sub(ks.LastTriggerAt) >= p.hold(&ks, a))
	notify := due || upgrade || (newAction && !opened) || (opened && inc.Severity > ks.LastSeverity)
	// A safety report is never held, even when it joins an incident that
	// another condition opened: a halt caused by a FATAL shares the FATAL's
	// key, so the incident's own condition may be "fatal".
	var window string
	var held bool
	if !exempt(a) {
		window, held = p.suppressed(&inc.Alert, now)
	}
	notify = notify && !held
	purpose := state.PurposeTrigger
	switch {
	case !notify:
	case !inc.Notified:
	case upgrade || newAction:
		purpose = state.PurposeUpdate
	default:
		purpose = state.PurposeRepeat
	}
	queued := false
	if notify {
		if queued, err = p.notify(tx, &ks, inc, purpose, now, false); err != nil {
			return false, err
		}
	} else {
		ev := p.log.Debug()
		if held {
			ev = p.log.Info().Str("maintenance", window)
		}
		ev.Str("key", a.Key).Str("incident_id", inc.ID).Int("unreported", ks.Unreported).Msg("alert recorded, notification held")
	}
	if err := tx.PutIncident(inc); err != nil {
		return false, err
	}
	return queued, tx.PutKey(ks, now)
}

// merge folds a into inc: the occurrence count (the most any one listener
// reported), severity, details, actions, listeners. It reports whether a
// brought an action the incident had not seen.
func merge(inc *state.Incident, a *alert.Alert) (newAction bool) {
	if inc.Listeners == nil {
		inc.Listeners = map[string]int{}
	}
	inc.Listeners[a.Listener]++
	for _, n := range inc.Listeners {
		inc.Count = max(inc.Count, n)
	}
	v := &inc.Alert
	if v.Key == "" {
		*v = *a
		v.Details = nil
	} else {
		if a.Severity >= v.Severity {
			v.Summary = a.Summary
		}
		if a.LogTail != "" {
			v.LogTail = a.LogTail
		}
		if v.Runbook == "" {
			v.Runbook = a.Runbook
		}
		if v.TraceID == "" {
			v.TraceID = a.TraceID
		}
		v.Time, v.SourceID = a.Time, a.SourceID
	}
	for k, val := range a.Details {
		if v.Details == nil {
			v.Details = map[string]string{}
		}
		v.Details[k] = val
	}
	inc.Severity = max(inc.Severity, a.Severity)
	v.Severity = inc.Severity
	if a.Time.After(inc.LastSeen) {
		inc.LastSeen = a.Time
	}
	if a.Action != "" && !slices.Contains(inc.Actions, a.Action) {
		inc.Actions = append(inc.Actions, a.Action)
		newAction = true
	}
	v.Action = strings.Join(inc.Actions, "; ")
	v.Listener = strings.Join(slices.Sorted(maps.Keys(inc.Listeners)), ",")
	v.Kind = alert.Trigger
	return newAction
}

// notification builds the trigger notification of inc as it stands,
// lowering the severity during quiet hours.
func (p *Pipeline) notification(tx *state.Tx, inc *state.Incident, count int, flapping bool, now time.Time) alert.Notification {
	a := inc.Alert
	a.Kind = alert.Trigger
	if a.Details != nil {
		a.Details = cloneMap(a.Details)
	}
	if lower := a.Severity.Lower(); lower != a.Severity && !exempt(&a) && route.Quiet(p.cfg, now, p.session(tx)) {
		if a.Details == nil {
			a.Details = map[string]string{}
		}
		a.Details["quiet_hours"] = "severity lowered from " + a.Severity.String()
		a.Severity = lower
	}
	return alert.Notification{Alert: a, IncidentID: inc.ID, Count: count, FirstSeen: inc.FirstSeen, Flapping: flapping}
}

// notify queues a trigger notification of inc (and, with andResolve, its
// resolve right behind it) to every sink the routes pick, and records that
// the key and incident notified. It reports whether it queued anything.
func (p *Pipeline) notify(tx *state.Tx, ks *state.KeyState, inc *state.Incident, purpose state.Purpose,
	now time.Time, andResolve bool) (bool, error) {
	count := ks.Unreported
	if purpose == state.PurposeReminder {
		count = inc.Count
	}
	n := p.notification(tx, inc, count, p.flapping(ks), now)
	n.Reminder = purpose == state.PurposeReminder
	sinks := route.Sinks(p.cfg, &n.Alert)
	for _, sink := range sinks {
		if _, err := tx.Enqueue(&state.Delivery{Sink: sink, Purpose: purpose, Notification: n, CreatedAt: now}); err != nil {
			return false, err
		}
		if andResolve {
			r := resolveOf(n, inc)
			if _, err := tx.Enqueue(&state.Delivery{Sink: sink, Purpose: state.PurposeResolve, Notification: r, CreatedAt: now}); err != nil {
				return false, err
			}
		}
	}
	p.logQueued(&n, purpose, sinks)
	if purpose != state.PurposeReminder {
		ks.LastTriggerAt, ks.LastSeverity, ks.Unreported = now, inc.Severity, 0
	}
	inc.Notified, inc.LastNotified = true, now
	return len(sinks) > 0, nil
}

// logQueued logs what was queued; an alert no route sends anywhere is
// logged whole, so it is never lost silently.
func (p *Pipeline) logQueued(n *alert.Notification, purpose state.Purpose, sinks []string) {
	if len(sinks) > 0 {
		p.log.Debug().Str("key", n.Key).Str("incident_id", n.IncidentID).Str("purpose", string(purpose)).
			Int("count", n.Count).Strs("sinks", sinks).Msg("notification queued")
		return
	}
	lvl := zerolog.WarnLevel
	if n.Severity == alert.Info || n.Kind == alert.Resolve {
		lvl = zerolog.InfoLevel
	}
	b, err := json.Marshal(n)
	if err != nil {
		b = []byte(`{}`)
	}
	p.log.WithLevel(lvl).Str("purpose", string(purpose)).RawJSON("notification", []byte(p.redact(string(b)))).
		Msg("notification routed to no sink")
}

// resolveOf turns a trigger notification of inc into its resolve.
func resolveOf(n alert.Notification, inc *state.Incident) alert.Notification {
	n.Kind, n.Reminder, n.Ref = alert.Resolve, false, ""
	n.Count = inc.Count
	if !inc.ResolvedAt.IsZero() {
		n.Time = inc.ResolvedAt
	}
	return n
}

// resolve closes the key's open incident and queues its resolve to every
// sink that got (or may have got) its trigger; where the trigger was never
// attempted both are cancelled instead. It reports whether it queued any
// delivery.
func (p *Pipeline) resolve(tx *state.Tx, a *alert.Alert, now time.Time) (bool, error) {
	inc, err := tx.OpenIncident(a.Key)
	if err != nil || inc == nil {
		if inc == nil && err == nil {
			p.log.Debug().Str("key", a.Key).Msg("resolve for a key with no open incident")
		}
		return false, err
	}
	if a.Condition != alert.CondHalt && inc.Alert.Details[alert.DetailHaltReason] != "" {
		// Trading stays halted until a person resumes it, so the program
		// that triggered the halt coming back does not close the incident.
		p.log.Info().Str("key", a.Key).Str("incident_id", inc.ID).Str("from", a.Listener).
			Msg("resolve ignored: the incident carries a halt that only a resume ends")
		return false, nil
	}
	ks, err := tx.Key(a.Key)
	if err != nil {
		return false, err
	}
	inc.Status, inc.ResolvedAt = state.IncidentResolved, a.Time
	if a.Time.After(inc.LastSeen) {
		inc.LastSeen = a.Time
	}
	p.recordChange(&ks, now)
	_, held := p.suppressed(&inc.Alert, now)
	if inc.Notified || held {
		// The resolve reports the incident's total; what maintenance held
		// back is recorded and never sent.
		ks.Unreported = 0
	}
	resolved := *a
	resolved.Details = cloneMap(inc.Alert.Details)
	for k, v := range a.Details {
		resolved.Details[k] = v
	}
	if len(resolved.Details) == 0 {
		resolved.Details = nil
	}
	actions := inc.Actions
	if a.Action != "" && !slices.Contains(actions, a.Action) {
		actions = append(slices.Clone(actions), a.Action)
	}
	resolved.Action = strings.Join(actions, "; ")
	resolved.Listener = inc.Alert.Listener
	if !strings.Contains(","+resolved.Listener+",", ","+a.Listener+",") {
		resolved.Listener += "," + a.Listener
	}
	resolved.Group, resolved.Program, resolved.Condition = inc.Alert.Group, inc.Alert.Program, inc.Alert.Condition
	resolved.Runbook, resolved.TraceID = inc.Alert.Runbook, inc.Alert.TraceID

	rows, err := tx.Deliveries(inc.ID)
	if err != nil {
		return false, err
	}
	queued := false
	for _, sink := range sinksWithTriggers(rows) {
		q, err := p.resolveOnSink(tx, inc, &ks, resolved, sink, rows, now)
		if err != nil {
			return false, err
		}
		queued = queued || q
	}
	if err := tx.PutIncident(inc); err != nil {
		return false, err
	}
	return queued, tx.PutKey(ks, now)
}

// sinksWithTriggers lists, in order, the sinks that have a trigger of the
// incident that was not cancelled.
func sinksWithTriggers(rows []*state.Delivery) []string {
	var out []string
	for _, d := range rows {
		if d.Purpose != state.PurposeResolve && d.Status != state.Cancelled && !slices.Contains(out, d.Sink) {
			out = append(out, d.Sink)
		}
	}
	return out
}

// resolveOnSink queues the resolve of inc on one sink, or cancels the
// sink's unsent trigger and the resolve together.
func (p *Pipeline) resolveOnSink(tx *state.Tx, inc *state.Incident, ks *state.KeyState, a alert.Alert, sink string,
	rows []*state.Delivery, now time.Time) (bool, error) {
	var reached bool
	var last *state.Delivery
	for _, d := range rows {
		if d.Sink != sink || d.Purpose == state.PurposeResolve || d.Status == state.Cancelled {
			continue
		}
		last = d
		if d.Status == state.Sent || d.Status == state.Sending || d.Attempts > 0 {
			reached = true
		}
	}
	a.Severity = last.Notification.Severity // as the sink was told, quiet hours included
	r := alert.Notification{Alert: a, IncidentID: inc.ID, Count: inc.Count, FirstSeen: inc.FirstSeen,
		Flapping: p.flapping(ks)}
	r.Kind = alert.Resolve
	res := &state.Delivery{Sink: sink, Purpose: state.PurposeResolve, Notification: r, CreatedAt: now}
	reason := "superseded: the incident resolved"
	if !reached && last.Notification.Urgent() {
		// A safety or critical trigger is delivered even when its
		// condition cleared first (a halt and its resume, a FATAL fixed
		// while PagerDuty rate-limited us): the resolve follows it.
		reached = true
	}
	if !reached {
		reason = "cancelled: the incident resolved before its trigger was sent"
		res.Status, res.LastError = state.Cancelled, reason
	}
	var cancelled []int64
	for _, d := range rows {
		if d.Sink != sink || d.Status != state.Pending || d.Attempts > 0 {
			continue
		}
		// Unsent triggers go when nothing reached the sink; reminders and
		// refreshes are pointless once resolved either way.
		if !reached || d.Purpose == state.PurposeReminder || d.Purpose == state.PurposeRefresh {
			ok, err := tx.Cancel(d.ID, reason, now)
			if err != nil {
				return false, err
			}
			if ok {
				cancelled = append(cancelled, d.ID)
			}
		}
	}
	if _, err := tx.Enqueue(res); err != nil {
		return false, err
	}
	if !reached {
		p.log.Info().Str("sink", sink).Str("key", inc.Key).Str("incident_id", inc.ID).
			Ints64("cancelled", append(cancelled, res.ID)).Msg("resolved before its trigger was sent: both cancelled")
		return false, nil
	}
	if len(cancelled) > 0 {
		p.log.Debug().Str("sink", sink).Str("incident_id", inc.ID).Ints64("cancelled", cancelled).
			Msg("pending reminders superseded by the resolve")
	}
	return true, nil
}

// session is the trading session quiet hours name, read in tx (nil: none
// named, or unreadable: quiet hours by session then do not apply).
func (p *Pipeline) session(tx *state.Tx) *session.Timeline {
	q := p.cfg.QuietHours
	if q == nil || len(q.Session) == 0 {
		return nil
	}
	tl, err := tx.Session(q.Exchange)
	if err != nil {
		p.log.Warn().Err(err).Msg("trading session unreadable: quiet hours by session do not apply")
		return nil
	}
	return tl
}
