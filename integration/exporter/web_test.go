package exporter_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/superguard/superguard/integration/harness"
)

// pipedYAML is an exporter config for a binary driven through its pipes:
// supervisord unreachable (the exporter serves supervisord_up 0).
func pipedYAML(listen, extra string) string {
	return "host: " + host + "\nstate_path: {{.Dir}}/state.db\nsupervisor:\n  url: http://127.0.0.1:1\n" +
		"listeners:\n  exporter:\n    listen: " + listen + "\n" + harness.Indent(extra, "    ")
}

// writeConfig writes yaml into a new directory and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	dir := t.TempDir()
	path := filepath.Join(dir, "superguard.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(yaml, "{{.Dir}}", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAddressInUseIsAnErrorAtStart(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, out := harness.RunBin(t, "./listeners/exporter", "-config", writeConfig(t, pipedYAML(ln.Addr().String(), "")))
	if code == 0 || !strings.Contains(out, "listeners.exporter.listen") || !strings.Contains(out, "address already in use") {
		t.Errorf("exit %d, output:\n%s\nwant a failure naming listeners.exporter.listen and the address in use", code, out)
	}
	if strings.Contains(out, "READY") {
		t.Error("READY before the address was bound")
	}
}

func TestBadWebConfigRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ name, web, want string }{
		{"unknown field", "basic_auth_user:\n  prom: x\n", "field basic_auth_user not found"},
		{"missing certificate", "tls_server_config:\n  cert_file: " + dir + "/none.crt\n  key_file: " + dir + "/none.key\n", "none.crt"},
		{"no file", "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			web := filepath.Join(t.TempDir(), "web.yml")
			if tc.web != "" {
				if err := os.WriteFile(web, []byte(tc.web), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			conf := writeConfig(t, pipedYAML("127.0.0.1:0", "web_config: "+web))
			for _, args := range [][]string{{"-check", "-supervisord-conf", "none"}, nil} {
				code, out := harness.RunBin(t, "./listeners/exporter", append([]string{"-config", conf}, args...)...)
				if code != 2 || !strings.Contains(out, "listeners.exporter.web_config") || !strings.Contains(out, tc.want) {
					t.Errorf("%v: exit %d, output:\n%s\nwant exit 2 naming listeners.exporter.web_config and %q", args, code, out, tc.want)
				}
			}
		})
	}
}

// TestBasicAuth: with basic_auth_users in the web config, /metrics needs
// the password; the landing page too.
func TestBasicAuth(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret-scrape"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(web, []byte("basic_auth_users:\n  prom: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := harness.FreePort(t)
	harness.StartPiped(t, "./listeners/exporter", pipedYAML("127.0.0.1:"+port, "web_config: "+web), nil)
	url := "http://127.0.0.1:" + port + "/metrics"
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
	for _, tc := range []struct {
		user, pass string
		want       int
	}{{"", "", http.StatusUnauthorized}, {"prom", "wrong", http.StatusUnauthorized}, {"prom", "s3cret-scrape", http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("user %q password %q: %s, want %d", tc.user, tc.pass, resp.Status, tc.want)
		}
	}
}

// TestLandingPageAndUnreachableSupervisord: / links to /metrics; with
// supervisord unreachable the exporter still serves, supervisord_up 0.
func TestLandingPageAndUnreachableSupervisord(t *testing.T) {
	t.Parallel()
	port := harness.FreePort(t)
	harness.StartPiped(t, "./listeners/exporter", pipedYAML("127.0.0.1:"+port, ""), nil)
	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64<<10)
	n, _ := resp.Body.Read(b)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b[:n]), `href="/metrics"`) {
		t.Errorf("landing page: %s\n%s", resp.Status, b[:n])
	}
	fams, err := scrape(t, "http://127.0.0.1:"+port+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := value(fams, "supervisord_up"); !ok || v != 0 {
		t.Errorf("supervisord_up = %v (present %v) with supervisord unreachable, want 0", v, ok)
	}
}
