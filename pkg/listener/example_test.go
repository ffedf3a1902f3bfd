package listener_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/superguard/superguard/pkg/eventlistener"
	"github.com/superguard/superguard/pkg/listener"
)

// Config is the example listener's section: listeners.exitlog.
type Config struct {
	Quiet bool `yaml:"quiet"`
}

// exitLog logs every process that exits.
type exitLog struct {
	env *listener.Env
	cfg Config
}

func (h *exitLog) HandleEvent(_ context.Context, ev *eventlistener.Event) error {
	if ev.State != nil && !h.cfg.Quiet {
		h.env.Log.Info().Str("process", ev.State.Name()).Msg("exited")
	}
	return nil
}

// Example is the smallest complete listener, run on one event as
// supervisord would send it.
func Example() {
	spec := listener.Spec[Config]{
		Parts:   listener.Parts{Name: "exitlog"},
		Summary: "logs exits",
		New: func(_ context.Context, env *listener.Env, c Config) (eventlistener.Handler, error) {
			return &exitLog{env: env, cfg: c}, nil
		},
	}
	payload := "processname:a groupname:g from_state:RUNNING expected:0 pid:7"
	stdin := fmt.Sprintf("ver:3.0 server:supervisor serial:1 pool:exitlog poolserial:1 eventname:PROCESS_STATE_EXITED len:%d\n%s",
		len(payload), payload)
	var stderr strings.Builder
	code := listener.Run(spec, nil, listener.IO{Stdin: strings.NewReader(stdin), Stdout: os.Stdout, Stderr: &stderr})
	fmt.Println()
	fmt.Println("exit", code, strings.Contains(stderr.String(), `"process":"g:a"`))
	// Output:
	// READY
	// RESULT 2
	// OKREADY
	//
	// exit 0 true
}
