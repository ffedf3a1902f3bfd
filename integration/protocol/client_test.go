package protocol

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/superguard/superguard/integration/eventrecord"
	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestClientTransportsAndAuth: the XML-RPC client works over the unix socket
// and over inet_http_server, both with Basic auth; a wrong or missing
// password gives a clear error that names the server and never the
// password; and a listener gets the credentials through environment=, as the
// shipped configs tell operators to pass them.
func TestClientTransportsAndAuth(t *testing.T) {
	t.Parallel()
	canary := "canary-" + randomHex(t)
	s := harness.Start(t, harness.Options{
		Inet: true, UnixAuth: true, Username: "superguard", Password: canary,
		Sections: `
[program:sleeper]
command=sleep 1000
stderr_logfile={{.Dir}}/sleeper.err
` + harness.Listener{Name: "tl", Events: "TICK_3600",
			Command: `{{bin "` + testlistener + `"}} -record {{.Dir}}/tl.jsonl -reconcile -reconcile-on-start`,
			Extra:   []string{`environment=SUPERVISOR_USERNAME="{{.Username}}",SUPERVISOR_PASSWORD="{{.Password}}"`}}.Section()})
	if s.InetURL == "" {
		t.Fatal("no inet server")
	}
	tests := []struct {
		name     string
		cfg      supervisor.Config
		wantErr  bool
		wantURL  string
		password string // must never appear in the error
	}{
		{name: "unix with auth", cfg: supervisor.Config{URL: s.URL, Username: "superguard", Password: canary}},
		{name: "inet with auth", cfg: supervisor.Config{URL: s.InetURL, Username: "superguard", Password: canary}},
		{name: "unix wrong password", cfg: supervisor.Config{URL: s.URL, Username: "superguard", Password: canary + "-wrong"},
			wantErr: true, wantURL: s.URL, password: canary + "-wrong"},
		{name: "inet wrong password", cfg: supervisor.Config{URL: s.InetURL, Username: "superguard", Password: canary + "-wrong"},
			wantErr: true, wantURL: strings.TrimPrefix(s.InetURL, "http://"), password: canary + "-wrong"},
		{name: "inet no credentials", cfg: supervisor.Config{URL: s.InetURL}, wantErr: true, wantURL: strings.TrimPrefix(s.InetURL, "http://")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Timeout = 5 * time.Second
			c := s.NewClient(t, tt.cfg)
			st, err := c.GetState(ctx(t))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("GetState succeeded (%+v), want an auth error", st)
				}
				msg := err.Error()
				t.Logf("error: %s", msg)
				if !errors.Is(err, supervisor.ErrUnauthorized) {
					t.Errorf("error %q does not match supervisor.ErrUnauthorized", msg)
				}
				if !strings.Contains(msg, tt.wantURL) || !strings.Contains(msg, "401") {
					t.Errorf("error %q should name the server %q and the 401", msg, tt.wantURL)
				}
				if strings.Contains(msg, canary) {
					t.Errorf("error leaks the password: %q", msg)
				}
				return
			}
			if err != nil || st.Name != "RUNNING" {
				t.Fatalf("GetState = %+v, %v; want RUNNING", st, err)
			}
			infos, err := c.GetAllProcessInfo(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, p := range infos {
				names[p.FullName()] = true
			}
			if !names["sleeper:sleeper"] || !names["tl:tl"] {
				t.Errorf("processes = %v, want sleeper:sleeper and tl:tl", names)
			}
		})
	}

	// The listener authenticated with the credentials from environment=.
	recs := waitRecords(t, s.Path("tl.jsonl"), 1, "start-up reconciliation", func(r eventrecord.Record) bool {
		return r.Kind == eventrecord.KindReconcile && r.Reason == "start"
	})
	if recs[0].Processes != 2 {
		t.Errorf("listener's start-up reconciliation saw %d processes, want 2", recs[0].Processes)
	}
	if log := s.ReadListenerStderr("tl"); strings.Contains(log, canary) {
		t.Errorf("listener log leaks the password:\n%s", log)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
