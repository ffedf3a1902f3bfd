// Package eventlog holds the end-to-end tests of the eventlog listener and
// of the shipped supervisor-conf/ files: eventlog receives and parses every
// event family real supervisord 4.2.5 sends, the shipped supervisord.conf and
// conf.d/eventlog.conf start it and it logs events, and a protocol smoke test
// runs against the Go supervisord as well.
package eventlog
