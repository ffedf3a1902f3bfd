package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// EnvSupervisord names the real supervisord binary to use; `make test` sets
// it from scripts/install-supervisor.sh.
const EnvSupervisord = "SUPERGUARD_SUPERVISORD"

// GoSupervisordPackage is the Go supervisord's main package, a tool
// dependency in go.mod.
const GoSupervisordPackage = "github.com/ochinchina/supervisord"

// buildDir is where Bin puts executables, relative to the module root
// (ignored by git, removed by make clean).
const buildDir = "bin/harness"

type build struct {
	once sync.Once
	path string
	err  error
}

var builds sync.Map // package path -> *build

// Bin builds the main package pkg ("./listeners/eventlog",
// "./integration/cmd/fakestrategy", or a tool such as GoSupervisordPackage)
// once per test binary run and returns the executable's absolute path.
// Relative paths are relative to the module root. Binaries land in the
// module's bin/harness/ via a temporary file and a rename, so test binaries
// of several packages building at once never see a partial file.
func Bin(t testing.TB, pkg string) string {
	t.Helper()
	path, err := binPath(pkg)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return path
}

func binPath(pkg string) (string, error) {
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() { b.path, b.err = goBuild(pkg) })
	return b.path, b.err
}

func goBuild(pkg string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, buildDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	// bin/harness/<hash of pkg>/<name>: the binary keeps its own name,
	// which -check's conf doctor (and ps) recognise a listener by.
	sum := sha256.Sum256([]byte(pkg))
	final := filepath.Join(dir, hex.EncodeToString(sum[:4]), filepath.Base(pkg))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	tmp, err := os.CreateTemp(dir, ".build-*")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-o", tmp.Name(), pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as `make build` ships them
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	return final, nil
}

var moduleRoot = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("module root: no go.mod above %s", dir)
		}
	}
})

// ModuleRoot returns the directory of the go.mod above the working directory
// (go test runs each package in its own directory).
func ModuleRoot() (string, error) { return moduleRoot() }

var realSupervisord = sync.OnceValues(func() (string, error) {
	path, how := os.Getenv(EnvSupervisord), "$"+EnvSupervisord
	if path == "" {
		if p, err := exec.LookPath("supervisord"); err == nil {
			path, how = p, "PATH"
		}
	}
	if path == "" {
		if root, err := ModuleRoot(); err == nil {
			if p := filepath.Join(root, ".venv-supervisor", "bin", "supervisord"); fileExists(p) {
				path, how = p, ".venv-supervisor"
			}
		}
	}
	if path == "" {
		return "", errors.New("no supervisord found ($" + EnvSupervisord + ", PATH, .venv-supervisor): run scripts/install-supervisor.sh")
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("supervisord %s (from %s): --version: %w", path, how, err)
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "4.") {
		return "", fmt.Errorf("supervisord %s (from %s) is version %q: superguard needs 4.x (run scripts/install-supervisor.sh)", path, how, v)
	}
	return path, nil
})

// SupervisordPath returns the real supervisord 4.x the harness runs:
// $SUPERGUARD_SUPERVISORD, else supervisord on PATH, else
// .venv-supervisor/bin/supervisord under the module root. It fails the test
// when none is found or its version is not 4.x.
func SupervisordPath(t testing.TB) string {
	t.Helper()
	path, err := realSupervisord()
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return path
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
