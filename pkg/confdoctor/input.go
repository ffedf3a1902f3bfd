package confdoctor

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/superguard/superguard/pkg/config"
)

// EnvPath names the supervisord.conf to check when no flag does.
const EnvPath = "SUPERGUARD_SUPERVISORD_CONF"

// DefaultPath is where make install puts supervisord.conf.
const DefaultPath = "/etc/superguard/supervisord.conf"

// SearchPaths are the files tried when neither the flag nor EnvPath names
// one: superguard's install path, then supervisord 4's own search order
// (supervisor/options.py: relative to the directory above the supervisord
// executable, then the working directory, then /etc).
func SearchPaths() []string {
	paths := []string{DefaultPath}
	if exe, err := exec.LookPath("supervisord"); err == nil {
		here := filepath.Dir(filepath.Dir(exe))
		paths = append(paths, filepath.Join(here, "etc", "supervisord.conf"), filepath.Join(here, "supervisord.conf"))
	}
	return append(paths, "supervisord.conf", "etc/supervisord.conf", "/etc/supervisord.conf", "/etc/supervisor/supervisord.conf")
}

// Locate returns the supervisord.conf to check: flag ("none": none), else
// $SUPERGUARD_SUPERVISORD_CONF, else the first of SearchPaths that
// exists. named says that flag or the variable chose it (a file found by
// the search may be another supervisord's).
func Locate(flag string) (path string, named bool) {
	switch {
	case flag == "none":
		return "", true
	case flag != "":
		return flag, true
	case os.Getenv(EnvPath) != "":
		return os.Getenv(EnvPath), true
	}
	for _, p := range SearchPaths() {
		if _, err := os.Stat(p); err == nil {
			return p, false
		}
	}
	return "", false
}

// Halt is what the doctor reads of superguard.yaml's listeners.haltguard
// (the listener's ConfigFile decodes it leniently: the listener's own
// -check validates the section strictly).
type Halt struct {
	Critical    []string `yaml:"critical"`
	Targets     []string `yaml:"targets"`
	LatchFile   string   `yaml:"latch_file"`
	LatchMirror string   `yaml:"latch_mirror"`
}

// FromConfig is the Input superguard.yaml gives: whether the supervisor:
// section carries credentials and, from h (nil: no haltguard section),
// haltguard's critical programs, targets and latch files
// (config.HaltLatchPaths, as haltguard reads them). It decodes no YAML,
// so a listener configured by flags alone links none.
func FromConfig(c *config.Config, h *Halt) Input {
	in := Input{FileCredentials: c.Supervisor.Username != "" &&
		(c.Supervisor.PasswordFile != "" || c.Supervisor.PasswordEnv != "" || c.Supervisor.Password.IsSet())}
	if h == nil {
		return in
	}
	in.Critical, in.Targets = h.Critical, h.Targets
	state := c.StatePath
	if state == "" {
		state = config.DefaultStatePath
	}
	in.Latches = config.HaltLatchPaths(state, h.LatchFile, h.LatchMirror)
	return in
}
