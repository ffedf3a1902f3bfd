package testsupport

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
