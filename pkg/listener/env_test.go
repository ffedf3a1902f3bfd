package listener

import (
	"testing"

	"github.com/superguard/superguard/pkg/config"
)

func TestSupervisorConfigPrecedence(t *testing.T) {
	file := config.Supervisor{URL: "unix:///file.sock", Username: "fileuser"}
	tests := []struct {
		name      string
		env       map[string]string
		fromFile  config.Supervisor
		preferEnv bool
		wantURL   string
		wantUser  string
	}{
		{name: "listener: env first", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///env.sock", "SUPERVISOR_USERNAME": "envuser"},
			fromFile: file, preferEnv: true, wantURL: "unix:///env.sock", wantUser: "envuser"},
		{name: "listener: credentials from the file when the env has none", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///env.sock"},
			fromFile: file, preferEnv: true, wantURL: "unix:///env.sock", wantUser: "fileuser"},
		{name: "operator: file first", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///env.sock", "SUPERVISOR_USERNAME": "envuser"},
			fromFile: file, wantURL: "unix:///file.sock", wantUser: "fileuser"},
		{name: "operator: env when the file has no supervisor section", env: map[string]string{"SUPERVISOR_SERVER_URL": "unix:///env.sock"},
			wantURL: "unix:///env.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"SUPERVISOR_SERVER_URL", "SUPERVISOR_USERNAME", "SUPERVISOR_PASSWORD", "SUPERVISOR_PASSWORD_FILE"} {
				t.Setenv(k, tt.env[k])
			}
			got := SupervisorConfig(tt.fromFile, tt.preferEnv)
			if got.URL != tt.wantURL || got.Username != tt.wantUser {
				t.Errorf("got URL %q user %q, want %q %q", got.URL, got.Username, tt.wantURL, tt.wantUser)
			}
		})
	}
}
