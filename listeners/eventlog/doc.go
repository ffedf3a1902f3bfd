// Command eventlog is superguard's event tap: a supervisord event listener
// that writes every event it receives (header fields and parsed payload) as
// one JSON line on stderr, for operators debugging the stack and as a record
// of what supervisord told the guards. It never acts on an event.
//
//	[eventlistener:eventlog]
//	command=/usr/local/bin/eventlog -events PROCESS_STATE,PROCESS_GROUP,SUPERVISOR_STATE_CHANGE,REMOTE_COMMUNICATION,TICK_60 -state-file /var/lib/superguard/eventlog.state
//	events=PROCESS_STATE,PROCESS_GROUP,SUPERVISOR_STATE_CHANGE,REMOTE_COMMUNICATION,TICK_60
//	buffer_size=1024             ; one buffer per pool, 10 by default: a burst of starts overflows it
//	priority=1000                ; above the programs it watches: events reach it without a 1 s loop turn
//	autorestart=true             ; a listener that exits (e.g. on a desynchronised stream) gets the in-flight event again
//	stdout_logfile=NONE          ; stdout carries the protocol only
//	stderr_logfile=/var/log/superguard/eventlog.log
//	stderr_logfile_maxbytes=50MB
//	stderr_logfile_backups=5
//
// Flags:
//
//	-events      comma list of event names or prefixes to log ("PROCESS_STATE"
//	             covers PROCESS_STATE_EXITED...; "EVENT" or "" logs all); default all
//	-process     comma list of process patterns (package procmatch): a bare
//	             word is a program or a whole group of that name, "*:name" a
//	             program only, "group:*" a group, "group:name" one process,
//	             shell globs in both parts. Events that are
//	             not about a process (TICK_*, SUPERVISOR_STATE_CHANGE_*,
//	             REMOTE_COMMUNICATION) always pass; PROCESS_GROUP_* events
//	             match on the group. Default all
//	-dialect     supervisor4 (real supervisord: len counts characters) or
//	             gosupervisord (len counts bytes); default supervisor4
//	-log-level   debug, info, warn or error; default $SUPERGUARD_LOG_LEVEL,
//	             else info. Events are logged at info: warn logs none of them
//	-state-file  where to persist the last received event, so that re-sent
//	             events and dropped ones (poolserial gaps) are recognised
//	             across restarts; default none (memory only)
//
// A line looks like
//
//	{"level":"info","listener":"eventlog","eventname":"PROCESS_STATE_EXITED","serial":21,"pool":"eventlog","poolserial":10,"server":"supervisor","len":73,"attempt":1,"state":{"process":"engine","group":"strategies","from_state":"RUNNING","to_state":"EXITED","expected":false,"pid":4242},"time":"...","message":"event"}
//
// When SUPERVISOR_SERVER_URL is set (supervisord sets it for its children;
// SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD or SUPERVISOR_PASSWORD_FILE
// must come from environment= when the servers require auth), eventlog
// answers a poolserial gap (events dropped on buffer overflow) by logging
// every process's state from getAllProcessInfo ("reconciliation").
//
// Exit status: 0 when stdin closes or on SIGTERM/SIGINT, 1 when the stream
// is desynchronised (supervisord restarts it), 2 on a bad flag or config.
package main
