// Package supervisor is a typed client for supervisord's XML-RPC API
// (http://supervisord.org/api.html), built on github.com/kolo/xmlrpc's
// encoder and decoder.
//
// It talks to supervisord over its unix socket ("unix:///run/supervisor.sock")
// or its inet server ("http://127.0.0.1:9001"), always at the path /RPC2, with
// HTTP Basic auth when a username is configured. An eventlistener gets its
// defaults from the environment supervisord gives it (see ConfigFromEnv).
//
// Every call is bounded: by the caller's context deadline, or by
// Config.Timeout when the context has none. Cancelling the context aborts the
// HTTP request itself (kolo's own rpc-based Client is not used: it has no
// context and serialises calls). Calls do not serialise behind each other: a
// StopProcess(ctx, name, true) that waits for a slow process to exit inside
// supervisord does not delay a concurrent GetState. All calls share one
// http.Transport and its connection pool.
//
// Faults returned by supervisord are *Fault values; match them with errors.As
// or IsFault:
//
//	err := c.StartProcess(ctx, "trading:engine", true)
//	if supervisor.IsFault(err, supervisor.FaultAlreadyStarted) { ... }
//
// Errors name the server URL and the method, never the password. An HTTP 401
// matches ErrUnauthorized; other statuses are *HTTPError; transport errors
// keep their cause (errors.Is(err, syscall.ECONNREFUSED),
// context.DeadlineExceeded).
//
// supervisortest starts a real supervisord for tests.
package supervisor
