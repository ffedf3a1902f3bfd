package main

import (
	"context"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// listWithin bounds -check's look at supervisord's process list.
const listWithin = 3 * time.Second

// selectorNotes says which patterns of c changed meaning with the one
// process selector (package procmatch): before it, a bare word in include,
// exclude or listeners was a program name only; now it also selects every
// process of a group of that name. With supervisord's process list (procs,
// known) a note names each bare pattern that now selects more, and what to
// write instead; without it, every bare pattern of include and exclude gets
// a note.
func selectorNotes(c Config, procs []supervisor.ProcessInfo, known bool) []string {
	fields := []struct {
		name     string
		patterns []string
	}{{"include", c.Include}, {"exclude", c.Exclude}, {"listeners", c.Listeners}}
	var notes []string
	for _, f := range fields {
		path := "listeners." + listenerName + "." + f.name
		if known {
			for _, w := range procmatch.Widen(f.patterns, procs) {
				notes = append(notes, w.Note(path))
			}
			continue
		}
		if f.name == "listeners" {
			continue
		}
		for i, p := range f.patterns {
			if !strings.Contains(p, ":") {
				notes = append(notes, procmatch.BareNote(path, i, p))
			}
		}
	}
	return notes
}

// liveProcesses reads supervisord's process list for -check; known is
// false when supervisord is not configured or cannot be reached.
func liveProcesses(ctx context.Context, shared *config.Config) (procs []supervisor.ProcessInfo, known bool) {
	client, err := supervisorClient(shared)
	if err != nil || client == nil {
		return nil, false
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, listWithin)
	defer cancel()
	procs, err = client.GetAllProcessInfo(ctx)
	return procs, err == nil
}
