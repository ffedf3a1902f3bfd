package governor

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/superguard/superguard/pkg/halt"
)

// Bounds of an Actor's calls to supervisord.
const (
	// RestartWithin bounds a restart: the stop (stopwaitsecs) then the
	// start (startsecs).
	RestartWithin = 2 * time.Minute
	// HaltAskWithin bounds a halt request.
	HaltAskWithin = 10 * time.Second
)

// Actor carries out what a guard's policy decided about a process, through
// supervisord and the governor, and says what came of each step in the
// words every guard's status and alerts use.
type Actor struct {
	Sup Supervisor
	Gov *Governor
	// By is the guard's name: its halt requests carry it, and a spent
	// budget's text names its budget reset command.
	By  string
	Log zerolog.Logger
	// Redact scrubs secrets from the texts returned (they reach alerts).
	Redact func(string) string
}

// Restart restarts process (Restart, within RestartWithin) and records the
// restart in the budget. A restart that failed is logged and returned as
// failure, the action to report; one made but not recorded is logged and
// returned as note: the next Ask reads the store again and fails closed
// while it cannot, so an unrecorded restart never allows endless ones.
func (a *Actor) Restart(ctx context.Context, process string) (failure, note string) {
	rctx, cancel := context.WithTimeout(ctx, RestartWithin)
	err := Restart(rctx, a.Sup, process)
	cancel()
	if err != nil {
		a.Log.Error().Err(err).Str("process", process).Msg("restart failed")
		return "restart failed: " + a.Redact(err.Error()), ""
	}
	if err := a.Gov.Record(ctx, process); err != nil {
		a.Log.Error().Err(err).Str("process", process).Msg("restart not recorded")
		return "", "restart not recorded in the budget: " + a.Redact(err.Error())
	}
	return "", ""
}

// AskHalt asks haltguard to halt trading through its documented switch
// (halt.Ask, within HaltAskWithin) and says what came of it.
func (a *Actor) AskHalt(ctx context.Context, process, reason string) string {
	reason = a.Redact(reason)
	hctx, cancel := context.WithTimeout(ctx, HaltAskWithin)
	defer cancel()
	if err := halt.Ask(hctx, a.Sup, reason, a.By); err != nil {
		a.Log.Error().Err(err).Str("process", process).Msg("halt request not delivered")
		return "halt requested but not delivered to supervisord: " + a.Redact(err.Error())
	}
	a.Log.Warn().Str("process", process).Str("reason", reason).Msg("halt requested")
	return "halt requested from haltguard"
}

// Spent is the action for a process whose budget d is spent: not
// restarted until a person restarts it or resets the budget, and for a
// critical process a halt asked for with reason.
func (a *Actor) Spent(ctx context.Context, process string, d Decision, critical bool, reason string) string {
	action := "not restarted: " + d.String() + "; restarts again once a person restarts it or resets the budget (" +
		a.By + " budget reset " + process + ")"
	if critical {
		action += "; " + a.AskHalt(ctx, process, "restart budget spent on critical "+process+": "+reason)
	}
	return action
}
