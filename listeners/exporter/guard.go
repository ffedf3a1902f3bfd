package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/halt"
	"github.com/superguard/superguard/pkg/state"
)

// guardSnapshot is the guard's own health, read in the background on
// every TICK (never during a scrape): the store's halt history, outbox
// and heartbeats, the latch files, and the status files of healthprobe
// and memguard.
type guardSnapshot struct {
	at time.Time

	storeOK bool
	// halts by trigger (process, operator, remote), and the latency of
	// each carried-out halt (latched to complete).
	halts   map[string]int64
	latency []float64

	latchKnown, latched bool

	// outbox rows by sink and status, and the oldest pending row's age.
	outbox       map[[2]string]int
	oldestQueued map[string]time.Duration

	heartbeats []state.Heartbeat

	probes []probeStatus
	memory []memStatus
}

type probeStatus struct {
	Check    string   `json:"check"`
	Kind     string   `json:"kind"`
	Process  string   `json:"process"`
	State    string   `json:"state"`
	Failures int      `json:"failures"`
	LastOK   bool     `json:"last_ok"`
	Latency  string   `json:"latency"`
	Probed   string   `json:"last_probe"`
	Age      *float64 `json:"age_seconds"`
	Used     int      `json:"restarts_used"`
	Max      int      `json:"restarts_max"`
}

type memStatus struct {
	Process     string `json:"process"`
	Measure     string `json:"measure"`
	Bytes       int64  `json:"bytes"`
	MaxBytes    int64  `json:"max_bytes"`
	TimeToLimit string `json:"time_to_limit"`
	Used        int    `json:"restarts_used"`
	Max         int    `json:"restarts_max"`
}

// readGuard reads the snapshot; every part that cannot be read is left
// out (storeOK and latchKnown say so), never a scrape error.
func readGuard(ctx context.Context, st *state.Store, latch halt.Latch, statusDir string, now time.Time) *guardSnapshot {
	g := &guardSnapshot{at: now, halts: map[string]int64{}, outbox: map[[2]string]int{}, oldestQueued: map[string]time.Duration{}}
	if latch != nil {
		if ls, err := latch.Get(ctx); err == nil {
			g.latchKnown, g.latched = true, ls.Latched
		}
	}
	if st != nil {
		g.storeOK = readStore(ctx, st, g, now) == nil
	}
	if statusDir != "" {
		var hp struct {
			Targets []probeStatus `json:"targets"`
		}
		if readJSON(statusDir+"/healthprobe.status.json", &hp) {
			g.probes = hp.Targets
		}
		var mg struct {
			Processes []memStatus `json:"processes"`
		}
		if readJSON(statusDir+"/memguard.status.json", &mg) {
			g.memory = mg.Processes
		}
	}
	return g
}

func readStore(ctx context.Context, st *state.Store, g *guardSnapshot, now time.Time) error {
	hist, err := st.HaltHistory(ctx, 0)
	if err != nil {
		return err
	}
	set := map[string]time.Time{}
	for _, e := range slices.Backward(hist) { // oldest first
		switch e.Action {
		case "set":
			g.halts[haltTrigger(e.Actor)]++
			set[e.TraceID] = e.At
		case "complete":
			if at, ok := set[e.TraceID]; ok && !e.At.Before(at) {
				g.latency = append(g.latency, e.At.Sub(at).Seconds())
				delete(set, e.TraceID)
			}
		}
	}
	ds, err := st.ListDeliveries(ctx, state.Filter{})
	if err != nil {
		return err
	}
	for _, d := range ds {
		g.outbox[[2]string{d.Sink, string(d.Status)}]++
		if d.Status == state.Pending || d.Status == state.Sending {
			if age := now.Sub(d.CreatedAt); age > g.oldestQueued[d.Sink] {
				g.oldestQueued[d.Sink] = age
			}
		}
	}
	g.heartbeats, err = st.Heartbeats(ctx)
	return err
}

// haltTrigger names who latched a halt: haltguard on a critical program's
// failure, an operator's command, or another listener's remote request.
func haltTrigger(actor string) string {
	switch {
	case strings.HasPrefix(actor, "cli:"):
		return "operator"
	case strings.HasPrefix(actor, "remote:"):
		return "remote"
	default:
		return "process"
	}
}

func readJSON(path string, v any) bool {
	b, err := os.ReadFile(path)
	return err == nil && json.Unmarshal(b, v) == nil
}
