// Package protocol holds the end-to-end tests of the eventlistener protocol
// and the XML-RPC client against a real supervisord 4.x: re-delivery after
// FAIL and after a listener is killed mid-event, a malformed header, event
// buffer overflow under a burst of 20 programs, and the client over a unix
// socket and an inet server with Basic auth. Every scenario runs in parallel
// with its own supervisord (see integration/harness).
package protocol
