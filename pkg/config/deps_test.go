package config

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsNoSink keeps decoding in its layer: nothing this package
// links, directly or through other superguard packages, may be an alert
// sink or a sink's client library (pkg/alert/notify builds the sinks).
func TestImportsNoSink(t *testing.T) {
	const module = "github.com/superguard/superguard/"
	forbidden := []string{"slack-go", "go-pagerduty", module + "pkg/alert/"}
	seen := map[string]bool{}
	var walk func(path string)
	walk = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		for _, f := range forbidden {
			if strings.Contains(path, f) {
				t.Errorf("pkg/config links %s", path)
			}
		}
		if path != module+"pkg/config" && !strings.HasPrefix(path, module) {
			return
		}
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		for _, imp := range pkg.Imports {
			walk(imp)
		}
	}
	walk(module + "pkg/config")
}
