package harness

import (
	"testing"

	"github.com/superguard/superguard/pkg/supervisor"
)

// BenchmarkScenario measures what one scenario costs before its own work:
// start a real supervisord with one program, wait for getState RUNNING and
// the program RUNNING (startsecs=0), then stop everything. Budget parallel
// integration suites with it.
func BenchmarkScenario(b *testing.B) {
	for _, backend := range []Backend{RealSupervisord, GoSupervisord} {
		b.Run(backend.String(), func(b *testing.B) {
			Bin(b, GoSupervisordPackage) // build outside the timed loop
			for b.Loop() {
				s := Start(b, Options{Backend: backend, Sections: `
[program:sleeper]
command=sleep 1000
startsecs=0
stderr_logfile={{.Dir}}/sleeper.err
`})
				s.WaitProcessState(b, "sleeper", supervisor.ProcessRunning, DefaultStartTimeout)
				s.Stop(b)
			}
		})
	}
}
