package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/superguard/superguard/pkg/halt"
)

// REMOTE_COMMUNICATION types haltguard acts on. Any XML-RPC client pulls the
// switch with supervisord's sendRemoteCommEvent(type, data), for instance
// from Python:
//
//	server.supervisor.sendRemoteCommEvent("superguard.halt",
//	    '{"reason": "risk limits breached", "by": "healthprobe"}')
//
// Other superguard listeners (healthprobe when a critical program's restart
// budget is spent) request a halt the same way.
const (
	// RemoteHalt halts trading; data is JSON HaltCommand.
	RemoteHalt = halt.RemoteHalt
	// RemoteResume clears the latch; data is JSON ResumeCommand.
	RemoteResume = "superguard.resume"
)

// HaltCommand is the data of a RemoteHalt event (package halt's).
type HaltCommand = halt.HaltCommand

// ResumeCommand is the data of a RemoteResume event:
// {"by": "...", "start": true, "force": false}.
type ResumeCommand struct {
	By    string `json:"by"`
	Start bool   `json:"start"`
	Force bool   `json:"force"`
}

// ParseHaltCommand parses a RemoteHalt event's data. It always returns a
// usable command: on error the reason says the data was unreadable, since a
// halt request must never be lost to a typo.
func ParseHaltCommand(data string) (HaltCommand, error) {
	var c HaltCommand
	var err error
	if strings.TrimSpace(data) != "" {
		err = decodeStrict(data, &c)
	}
	if err != nil {
		c = HaltCommand{Reason: fmt.Sprintf("remote halt request (unreadable data %q)", truncate(data, 200))}
	}
	if strings.TrimSpace(c.Reason) == "" {
		c.Reason = "remote halt request"
	}
	if strings.TrimSpace(c.By) == "" {
		c.By = "unknown"
	}
	return c, err
}

// ParseResumeCommand parses a RemoteResume event's data; "by" is required.
func ParseResumeCommand(data string) (ResumeCommand, error) {
	var c ResumeCommand
	if err := decodeStrict(data, &c); err != nil {
		return ResumeCommand{}, err
	}
	if strings.TrimSpace(c.By) == "" {
		return ResumeCommand{}, fmt.Errorf("%s: \"by\" is required", RemoteResume)
	}
	return c, nil
}

func decodeStrict(data string, into any) error {
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("decode %q: %w", truncate(data, 200), err)
	}
	if dec.More() {
		return fmt.Errorf("decode %q: trailing data", truncate(data, 200))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
