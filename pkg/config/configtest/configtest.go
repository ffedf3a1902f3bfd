// Package configtest holds helpers for tests that need a shared config.
package configtest

import (
	"testing"

	"github.com/superguard/superguard/pkg/config"
)

// Parse parses yaml as the shared config file (defaults applied,
// validated; sinks not built, so no sink secret is read) and fails the test
// on an error.
func Parse(t testing.TB, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}
