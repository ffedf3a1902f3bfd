package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superguard/superguard/pkg/listener"
)

// TestMaxFlag: the simple case on the command line, a bad size refused
// naming the flag, and a pattern checked like the file's.
func TestMaxFlag(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "superguard.yaml")
	if err := os.WriteFile(cfg, []byte("host: h\nstate_path: "+filepath.Join(dir, "state.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-max", "2GiB", "-processes", "trading"}, listener.ExitOK, "OK (file only)"},
		{[]string{"-max", "2XB"}, listener.ExitUsage, `invalid value "2XB" for flag -max: size "2XB"`},
		{[]string{"-max", "0"}, listener.ExitUsage, `flag -max: want a size above 0`},
		{[]string{"-max", "1GB", "-processes", "a:b:c"}, listener.ExitUsage, `limits[0].processes[0]: pattern "a:b:c"`},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"-check", "-file-only", "-config", cfg}, tt.args...)
		code := listener.Run(spec, args, listener.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
		if code != tt.code || !strings.Contains(out.String()+errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", tt.args, code, tt.code, tt.want, out.String(), errOut.String())
		}
	}
}
