package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/state"
)

// sent is one notification the listeners committed to the outbox, with
// every sink it went to.
type sent struct {
	alert.Notification
	Purpose state.Purpose
	Sinks   []string
	At      time.Time // when the demo saw it
}

// alerts follows the outbox of the state store: it prints every
// notification as it is committed and lets steps wait for one.
type alerts struct {
	store *state.Store
	tl    *timeline

	mu     sync.Mutex
	seen   []sent
	lastID int64
	added  chan struct{} // closed and replaced on every addition
}

func newAlerts(store *state.Store, tl *timeline) *alerts {
	return &alerts{store: store, tl: tl, added: make(chan struct{})}
}

// follow polls the outbox every 100 ms until ctx ends.
func (a *alerts) follow(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		a.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// poll reads the rows added since the last poll; the rows of one
// notification (one per sink) become one line.
func (a *alerts) poll(ctx context.Context) {
	rows, err := a.store.ListDeliveries(ctx, state.Filter{})
	if err != nil {
		return // the store is busy or closing: the next poll tries again
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var batch []sent
	for _, r := range rows {
		if r.ID <= a.lastID {
			continue
		}
		a.lastID = r.ID
		if i := slices.IndexFunc(batch, func(s sent) bool {
			return s.IncidentID == r.Notification.IncidentID && s.Purpose == r.Purpose && s.Count == r.Notification.Count
		}); i >= 0 {
			batch[i].Sinks = append(batch[i].Sinks, r.Sink)
			continue
		}
		batch = append(batch, sent{Notification: r.Notification, Purpose: r.Purpose, Sinks: []string{r.Sink}, At: time.Now()})
	}
	for _, s := range batch {
		a.print(s)
		a.seen = append(a.seen, s)
	}
	if len(batch) > 0 {
		close(a.added)
		a.added = make(chan struct{})
	}
}

// print writes one notification to the timeline.
func (a *alerts) print(s sent) {
	who := s.Listener
	if s.Process() != "" {
		who += " on " + s.Process()
	}
	count := ""
	if s.Count > 1 {
		count = fmt.Sprintf(" (x%d)", s.Count)
	}
	m := markAlert
	if s.Kind == alert.Resolve {
		m = markResolve
	}
	a.tl.line(m, "%s %s %s%s: %s -> %s [%s]", s.Purpose, s.Severity, s.Condition, count, oneLine(s.Summary, 160),
		strings.Join(s.Sinks, ", "), who)
}

// wait waits until a notification after since matches, within d.
func (a *alerts) wait(ctx context.Context, d time.Duration, since time.Time, match func(sent) bool) (sent, bool) {
	deadline := time.After(d)
	for {
		a.mu.Lock()
		for _, s := range a.seen {
			if !s.Time.Before(since) && match(s) {
				a.mu.Unlock()
				return s, true
			}
		}
		added := a.added
		a.mu.Unlock()
		select {
		case <-added:
		case <-deadline:
			return sent{}, false
		case <-ctx.Done():
			return sent{}, false
		}
	}
}

// count returns how many notifications were printed.
func (a *alerts) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

// about matches a trigger for process (group:name) with one of conds.
func about(process string, conds ...alert.Condition) func(sent) bool {
	return func(s sent) bool {
		return s.Kind == alert.Trigger && (process == "" || s.Process() == process) && slices.Contains(conds, s.Condition)
	}
}

// probeStatus is the part of healthprobe's status file the demo reads.
type probeStatus struct {
	Written time.Time `json:"written"`
	Halted  bool      `json:"halted"`
	Targets []struct {
		Check   string `json:"check"`
		Process string `json:"process"`
		State   string `json:"state"`
	} `json:"targets"`
}

// healthStates reads healthprobe's status file: each process's checks'
// states ("healthy", "starting", ...), joined when it has several.
func (s *stack) healthStates() (map[string]string, time.Time, error) {
	b, err := os.ReadFile(s.path("lib/healthprobe.status.json"))
	if err != nil {
		return nil, time.Time{}, err
	}
	var st probeStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, time.Time{}, err
	}
	out := map[string]string{}
	for _, t := range st.Targets {
		if out[t.Process] != "" && out[t.Process] != t.State {
			out[t.Process] += "+" + t.State
			continue
		}
		out[t.Process] = t.State
	}
	return out, st.Written, nil
}

// allHealthy waits until healthprobe reports every checked process
// healthy in a round written after since.
func (s *stack) allHealthy(ctx context.Context, within time.Duration, since time.Time) error {
	if !s.has("healthprobe") {
		return nil
	}
	return s.until(ctx, within, "healthprobe to find every process healthy", func() (bool, string) {
		states, written, err := s.healthStates()
		if err != nil {
			return false, err.Error()
		}
		if written.Before(since) {
			return false, "no round yet"
		}
		var not []string
		for p, st := range states {
			if st != "healthy" {
				not = append(not, p+" "+st)
			}
		}
		slices.Sort(not)
		return len(not) == 0 && len(states) > 0, strings.Join(not, ", ")
	})
}
