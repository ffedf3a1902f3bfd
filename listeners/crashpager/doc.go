// Command crashpager is superguard's crash and fatal alerter, the successor
// of superlance's crashmail, crashmailbatch and fatalmailbatch. It runs as a
// supervisord event listener:
//
//	[eventlistener:crashpager]
//	command=/usr/local/bin/crashpager -config /etc/superguard/superguard.yaml
//	events=PROCESS_STATE,TICK_5
//	buffer_size=1024             ; a burst of exits must not overflow the pool's buffer
//	priority=1000                ; above the programs it watches: events reach it in ms, not a second later
//	autorestart=true
//	stdout_logfile=NONE          ; stdout carries the protocol only
//	stderr_logfile=/var/log/superguard/crashpager.log
//	stderr_logfile_maxbytes=50MB
//	environment=SUPERGUARD_STATE="/var/lib/superguard/state.db"  ; sinks' secrets: the YAML's *_env or *_file fields
//
// What it reports (the `listeners: crashpager:` section of the shared YAML
// config tunes every threshold; see Config):
//
//   - an unexpected EXITED is a warning, aggregated per program by the alert
//     pipeline (one notification per window carrying the count);
//   - more than spree_threshold (3) unexpected exits of one program within
//     spree_window (5m) is a restart spree: critical, paged once with the count;
//   - FATAL (supervisord gave up starting a program) is critical;
//   - a program that is RUNNING again and stays up for stable_for (1m,
//     checked on every TICK) resolves its exited, spree and fatal incidents.
//
// Alerts carry the exit status and how the process ended (from
// getProcessInfo, or supervisord's main log when the program was already
// restarted), its uptime, the exits in the window, the from/to states, the
// pid and the tail of its stderr log. Those details are fetched with a short
// deadline (tail_timeout, 200ms) and simply left out when supervisord is
// slow: the alert is committed to the durable outbox before the event is
// acknowledged, and nothing in between waits on the network. Senders deliver
// to Slack, PagerDuty, Alertmanager or the log in the background.
//
// Every alert's SourceID is the event's identity (supervisord instance, pool,
// serial), so an event supervisord re-sends after a crashpager restart adds
// nothing. On start-up and whenever a poolserial gap shows that supervisord
// dropped events, crashpager reconciles from getAllProcessInfo, so a FATAL
// whose event was lost is still reported; incidents it opened before a
// restart are read back from the ledger and still resolve. The protocol
// loop's delivery-tracking file is therefore optional (-events-state FILE):
// it costs a file write before every event.
//
// # Watching the watchers
//
// crashpager pages (condition "listener") when one of the superguard
// listeners it watches (listeners: haltguard, healthprobe, memguard,
// eventlog by default) exits or goes FATAL, and when one stops handling
// events: every listener records its last handled TICK in the state store's
// heartbeat table, and one more than late_periods (3) heartbeat periods late
// is reported, e.g. a listener stuck in supervisord's UNKNOWN state, which
// still shows RUNNING. crashpager records its own heartbeat on every TICK.
//
// Two dead-man's switches cover the case where the host or the whole suite is
// dead and no listener can say so: a URL pinged every minute (deadman:
// url_env or url_file; the URL may carry a token and never appears in a log),
// and, for every Alertmanager sink, an always-firing alert (labels
// alertname="Watchdog", severity="none", host, listener="crashpager")
// re-posted every minute with endsAt three intervals ahead, whose absence an
// external receiver pages on. Both run in their own goroutines, never
// between reading an event and acknowledging it; their failures are logged
// without the URL or password.
//
// # Operator commands
//
// The binary also carries the shared operator commands, which read the
// state path and supervisord credentials from the same YAML config:
//
//	crashpager incidents              open incidents
//	crashpager outbox [--pending|--dead]
//	crashpager retry ID|--all-dead    re-queue dead letters
//	crashpager drop ID
//	crashpager -check -config FILE    validate the config; exits non-zero naming the bad field
package main
