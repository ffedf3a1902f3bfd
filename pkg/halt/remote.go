package halt

import (
	"context"
	"encoding/json"
)

// The kill switch's remote request, as any XML-RPC client sends it with
// supervisord's sendRemoteCommEvent(type, data); haltguard subscribes to
// REMOTE_COMMUNICATION and acts on it, and other superguard listeners
// (healthprobe) ask for a halt the same way:
//
//	server.supervisor.sendRemoteCommEvent("superguard.halt",
//	    '{"reason": "risk limits breached", "by": "healthprobe"}')
const RemoteHalt = "superguard.halt"

// HaltCommand is the data of a RemoteHalt event:
// {"reason": "...", "by": "..."}.
type HaltCommand struct {
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// RemoteSender sends a REMOTE_COMMUNICATION event through supervisord
// (supervisor.sendRemoteCommEvent).
type RemoteSender interface {
	SendRemoteCommEvent(ctx context.Context, typ, data string) error
}

// Ask asks haltguard to halt trading through its documented switch: a
// RemoteHalt event with reason and the asking listener's name.
func Ask(ctx context.Context, s RemoteSender, reason, by string) error {
	data, err := json.Marshal(HaltCommand{Reason: reason, By: by})
	if err != nil {
		return err
	}
	return s.SendRemoteCommEvent(ctx, RemoteHalt, string(data))
}
