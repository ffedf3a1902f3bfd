package procexec

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnv(t *testing.T) {
	vars := map[string]string{"HOME": "/root", "PD_KEY": "secret", "BROKER": "b1"}
	env := Env(func(k string) string { return vars[k] }, []string{"BROKER"})
	want := []string{"PATH=" + defaultPath, "HOME=/root", "BROKER=b1"}
	if !slices.Equal(env, want) {
		t.Errorf("Env = %q, want %q", env, want)
	}
}

func TestCommandKillsItsGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	err := Command(ctx, []string{"/bin/sh", "-c", "echo started; sleep 30 & wait"}, nil, &out).Run()
	if err == nil || time.Since(start) > 10*time.Second || !strings.Contains(out.String(), "started") {
		t.Errorf("err %v after %s, output %q: want killed at the deadline with its output", err, time.Since(start), out.String())
	}
}
