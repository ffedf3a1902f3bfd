// Command fakestrategy is a scriptable stand-in for a trading strategy, run by
// superguard's integration tests under a real supervisord. Every behaviour is
// chosen by flags, or by FAKESTRATEGY_* environment variables set with the
// conf's environment= (flags win):
//
//	[program:alpha]
//	command=/path/to/fakestrategy -health-addr 127.0.0.1:0 -health-addr-file %(here)s/alpha.addr -heartbeat 1s
//	environment=FAKESTRATEGY_LOG_TEXT="prix 42 € ✓",FAKESTRATEGY_LOG_EVERY="500ms"
//	stdout_capture_maxbytes=1MB   ; needed for PROCESS_COMMUNICATION heartbeats
//	stdout_events_enabled=true    ; needed for PROCESS_LOG_STDOUT
//
// It can serve /health with a chosen status and body (switchable at run time
// through -health-file or SIGUSR1), exit with a code after a delay, hang
// (stop answering /health and stop heartbeats and logs; also on SIGUSR2),
// freeze the data timestamp of its /health body (after a delay, or on
// SIGTTIN: a frozen feed), ignore SIGTERM, grow its resident memory at a
// rate (from the start, or from SIGTTOU with -grow-on-signal: a leak on
// cue, as `make demo` uses it), emit
// PROCESS_COMMUNICATION heartbeats framed by <!--XSUPERVISOR:BEGIN--> and
// <!--XSUPERVISOR:END--> on stdout, and print non-ASCII log lines and bytes
// that are not valid UTF-8. Its own diagnostics go to stderr.
//
// For a memory/CPU/descriptor guard it can also spawn child processes (this
// binary again, named <name>-child-<i>, growing their own memory; they die
// with it), keep one core busy, and lower its soft RLIMIT_NOFILE and fill
// its descriptor table:
//
//	command=/path/to/fakestrategy -children 2 -child-grow-rate 8MiB -child-grow-limit 256MiB -spin -spin-for 30s -nofile 256 -open-fds 200
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/superguard/superguard/integration/cmd/internal/helperprog"
)

func main() {
	os.Exit(helperprog.Main("fakestrategy", parseConfig, func(cfg Config) int {
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU)
		return Run(context.Background(), cfg, os.Stdout, os.Stderr, sigs)
	}))
}
