package main

import (
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/listener/operator"
)

// statusCmd is `healthprobe status [-json]`.
var statusCmd = operator.StatusCommand(parts, "every check on every process: state, evidence, counters, last action, restart budget", printStatus)

// budgetCmd is `healthprobe budget [reset PROCESS...]`.
var budgetCmd = operator.BudgetCommand(parts, func(env *listener.Env) (governor.Budget, error) {
	sec, err := readSection(env)
	return sec.Budget.Governor(), err
})
