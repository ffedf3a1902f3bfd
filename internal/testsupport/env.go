package testsupport

import (
	"os"
	"strings"
)

// Getenv returns a lookup in the environment made of the key, value pairs
// kv (a trailing key without a value is ignored), for code that takes a
// getenv func instead of reading os.Getenv.
func Getenv(kv ...string) func(string) string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// CleanEnv returns the test's environment without SUPERVISOR_* variables
// (which would mislead a child about which supervisord it runs under) and
// SUPERGUARD_* ones (a developer's $SUPERGUARD_STATE or $SUPERGUARD_CONFIG
// would point a listener or a command at a real installation), plus extra.
// Give it to every supervisord and binary a test starts.
func CleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SUPERVISOR_") && !strings.HasPrefix(kv, "SUPERGUARD_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
