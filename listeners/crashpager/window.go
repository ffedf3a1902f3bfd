package main

import "time"

// exitWindow remembers the unexpected exits of one program within a sliding
// window. Each exit is keyed by the event that reported it, so an event
// supervisord re-sends is counted once.
type exitWindow struct {
	exits []exitMark
}

type exitMark struct {
	source  string
	at      time.Time
	inSpree bool // already counted in the spree incident
}

// add records the exit reported by source at time at, drops exits older
// than window before now, and returns the number left.
func (w *exitWindow) add(source string, at time.Time, window time.Duration) int {
	w.prune(at, window)
	for _, e := range w.exits {
		if e.source == source {
			return len(w.exits)
		}
	}
	w.exits = append(w.exits, exitMark{source: source, at: at})
	return len(w.exits)
}

// prune drops exits that happened more than window before now.
func (w *exitWindow) prune(now time.Time, window time.Duration) {
	cut := now.Add(-window)
	i := 0
	for i < len(w.exits) && !w.exits[i].at.After(cut) {
		i++
	}
	if i > 0 {
		w.exits = append(w.exits[:0], w.exits[i:]...)
	}
}

// reset forgets every exit (the program proved stable).
func (w *exitWindow) reset() { w.exits = w.exits[:0] }
