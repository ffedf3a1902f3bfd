package halt

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
