package supervisor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const canary = "canary-Unit-Pw-0b7d"

func TestParseServerURL(t *testing.T) {
	tests := []struct {
		raw      string
		display  string
		socket   string
		endpoint string
		wantErr  string
	}{
		{raw: "unix:///run/supervisor.sock", display: "unix:///run/supervisor.sock", socket: "/run/supervisor.sock", endpoint: "http://localhost/RPC2"},
		{raw: "unix:///tmp/a b/s.sock", display: "unix:///tmp/a b/s.sock", socket: "/tmp/a b/s.sock", endpoint: "http://localhost/RPC2"},
		{raw: "http://127.0.0.1:9001", display: "http://127.0.0.1:9001/RPC2", endpoint: "http://127.0.0.1:9001/RPC2"},
		{raw: "http://127.0.0.1:9001/", display: "http://127.0.0.1:9001/RPC2", endpoint: "http://127.0.0.1:9001/RPC2"},
		{raw: "http://localhost:9001/RPC2", display: "http://localhost:9001/RPC2", endpoint: "http://localhost:9001/RPC2"},
		{raw: "https://sup.example:443/custom", display: "https://sup.example:443/custom", endpoint: "https://sup.example:443/custom"},
		{raw: "", wantErr: "no supervisord url: set SUPERVISOR_SERVER_URL or the listener's url flag"},
		{raw: "unix://", wantErr: `supervisord url "unix://" has no socket path`},
		{raw: "unix://run/s.sock", wantErr: `supervisord url "unix://run/s.sock": want unix:///absolute/path`},
		{raw: "http://", wantErr: `supervisord url "http://" has no host`},
		{raw: "http://h:1/RPC2?x=1", wantErr: `supervisord url "http://h:1/RPC2?x=1": query and fragment are not allowed`},
		{raw: "ftp://h", wantErr: `supervisord url "ftp://h": scheme must be unix, http or https`},
		{raw: "/run/supervisor.sock", wantErr: `supervisord url "/run/supervisor.sock": scheme must be unix, http or https`},
		{raw: "http://sg:" + canary + "@h:9001", wantErr: `supervisord url "http://sg:xxxxx@h:9001" must not carry credentials: use a username and a password file`},
		{raw: "http://sg:" + canary + "@h:9001/%zz", wantErr: `invalid supervisord url "http://sg:xxxxx@h:9001/%zz": invalid URL escape "%zz"`},
		{raw: "http://sg@h:9001", wantErr: `supervisord url "http://sg@h:9001" must not carry credentials: use a username and a password file`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := parseServerURL(tt.raw)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parseServerURL(%q) error = %v, want %q", tt.raw, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), canary) {
					t.Errorf("error %q contains the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseServerURL(%q): %v", tt.raw, err)
			}
			want := serverURL{display: tt.display, socketPath: tt.socket, endpoint: tt.endpoint}
			if u != want {
				t.Errorf("parseServerURL(%q) = %+v, want %+v", tt.raw, u, want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"http://u:pw@h:1/p", "http://u:xxxxx@h:1/p"},
		{"http://u:p@w@h:1/p", "http://u:xxxxx@h:1/p"},
		{"http://u@h:1", "http://u@h:1"},
		{"http://h:1/p@q", "http://h:1/p@q"},
		{"u:pw@h", "u:xxxxx@h"},
		{"unix:///s.sock", "unix:///s.sock"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := redactURL(tt.raw); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	crlf := filepath.Join(dir, "crlf")
	empty := filepath.Join(dir, "empty")
	for path, content := range map[string]string{good: canary + "\n", crlf: canary + "\r\n", empty: "\n"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name         string
		cfg          Config
		wantErr      string
		wantPassword string
		wantTimeout  time.Duration
	}{
		{name: "defaults", cfg: Config{URL: "unix:///s.sock"}, wantTimeout: DefaultTimeout},
		{name: "password", cfg: Config{URL: "unix:///s.sock", Username: "u", Password: canary, Timeout: time.Second}, wantPassword: canary, wantTimeout: time.Second},
		{name: "password file", cfg: Config{URL: "unix:///s.sock", Username: "u", PasswordFile: good}, wantPassword: canary, wantTimeout: DefaultTimeout},
		{name: "password file crlf", cfg: Config{URL: "unix:///s.sock", Username: "u", PasswordFile: crlf}, wantPassword: canary, wantTimeout: DefaultTimeout},
		{name: "password file wins", cfg: Config{URL: "unix:///s.sock", Username: "u", Password: "other", PasswordFile: good}, wantPassword: canary, wantTimeout: DefaultTimeout},
		{name: "no url", cfg: Config{}, wantErr: "no supervisord url: set SUPERVISOR_SERVER_URL or the listener's url flag"},
		{name: "negative timeout", cfg: Config{URL: "unix:///s.sock", Timeout: -time.Second}, wantErr: "timeout -1s is negative"},
		{name: "password without user", cfg: Config{URL: "unix:///s.sock", Password: canary}, wantErr: "password given without a username"},
		{name: "missing password file", cfg: Config{URL: "unix:///s.sock", Username: "u", PasswordFile: missing}, wantErr: "read password file: open " + missing + ": no such file or directory"},
		{name: "empty password file", cfg: Config{URL: "unix:///s.sock", Username: "u", PasswordFile: empty}, wantErr: `password file "` + empty + `" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("New error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), canary) {
					t.Errorf("error %q contains the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if c.password != tt.wantPassword || c.timeout != tt.wantTimeout {
				t.Errorf("password %q timeout %v, want %q %v", c.password, c.timeout, tt.wantPassword, tt.wantTimeout)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"empty", map[string]string{}, Config{Timeout: DefaultTimeout}},
		{"url only", map[string]string{EnvServerURL: "unix:///run/s.sock"}, Config{URL: "unix:///run/s.sock", Timeout: DefaultTimeout}},
		{"all", map[string]string{
			EnvServerURL: "http://127.0.0.1:9001", EnvUsername: "sg", EnvPassword: canary, EnvPasswordFile: "/etc/sg/pw",
		}, Config{URL: "http://127.0.0.1:9001", Username: "sg", Password: canary, PasswordFile: "/etc/sg/pw", Timeout: DefaultTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{EnvServerURL, EnvUsername, EnvPassword, EnvPasswordFile} {
				t.Setenv(k, tt.env[k])
			}
			if got := ConfigFromEnv(); got != tt.want {
				t.Errorf("ConfigFromEnv() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		code       int
		text       string
		want       Fault
		wantString string
	}{
		{10, "BAD_NAME: grp:nope", Fault{10, "BAD_NAME", "grp:nope"}, "BAD_NAME: grp:nope (code 10)"},
		{6, "SHUTDOWN_STATE", Fault{6, "SHUTDOWN_STATE", ""}, "SHUTDOWN_STATE (code 6)"},
		{20, "NO_FILE: can't find command '/x'", Fault{20, "NO_FILE", "can't find command '/x'"}, "NO_FILE: can't find command '/x' (code 20)"},
		{30, "FAILED: <class 'KeyError'>:'x'", Fault{30, "FAILED", "<class 'KeyError'>:'x'"}, "FAILED: <class 'KeyError'>:'x' (code 30)"},
		{-32500, "Application Error: no process named x", Fault{-32500, "", "Application Error: no process named x"}, "fault: Application Error: no process named x (code -32500)"},
		{60, "already started", Fault{60, "ALREADY_STARTED", "already started"}, "ALREADY_STARTED: already started (code 60)"},
		{999, "", Fault{999, "", ""}, "fault (code 999)"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			f := newFault(tt.code, tt.text)
			if *f != tt.want {
				t.Errorf("newFault(%d, %q) = %+v, want %+v", tt.code, tt.text, *f, tt.want)
			}
			if f.Error() != tt.wantString {
				t.Errorf("Error() = %q, want %q", f.Error(), tt.wantString)
			}
			wrapped := errors.Join(errors.New("x"), f)
			if !IsFault(wrapped, tt.code) || IsFault(wrapped, tt.code+1) {
				t.Errorf("IsFault wrong for code %d", tt.code)
			}
		})
	}
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in     string
		want   *Fault
		wantOK bool
	}{
		{"Fault(60): ALREADY_STARTED: engine", &Fault{60, "ALREADY_STARTED", "engine"}, true},
		{"Fault(6): SHUTDOWN_STATE", &Fault{6, "SHUTDOWN_STATE", ""}, true},
		{"Fault(-32500): Application Error: x", &Fault{-32500, "", "Application Error: x"}, true},
		{"Fault(10): ", &Fault{10, "BAD_NAME", ""}, true},
		{"Fault(10):", &Fault{10, "BAD_NAME", ""}, true},
		{"Fault(x): BAD_NAME: y", nil, false},
		{"request error: bad status code - 401", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseFault(tt.in)
			if ok != tt.wantOK || (ok && *got != *tt.want) {
				t.Errorf("ParseFault(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestProcessStates(t *testing.T) {
	tests := []struct {
		name    string
		want    ProcessState
		wantErr bool
	}{
		{"STOPPED", ProcessStopped, false},
		{"STARTING", ProcessStarting, false},
		{"RUNNING", ProcessRunning, false},
		{"BACKOFF", ProcessBackoff, false},
		{"STOPPING", ProcessStopping, false},
		{"EXITED", ProcessExited, false},
		{"FATAL", ProcessFatal, false},
		{"UNKNOWN", ProcessUnknown, false},
		{"Running", ProcessRunning, false}, // Go supervisord
		{"Fatal", ProcessFatal, false},
		{"Backoff", ProcessBackoff, false},
		{" exited ", ProcessExited, false},
		{"RUNNIN", ProcessUnknown, true},
		{"", ProcessUnknown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcessState(tt.name)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseProcessState(%q) = %v, %v; want %v, err %v", tt.name, got, err, tt.want, tt.wantErr)
			}
			if !tt.wantErr && got.String() != strings.ToUpper(strings.TrimSpace(tt.name)) {
				t.Errorf("String() = %q", got.String())
			}
		})
	}
	if got := ProcessState(7).String(); got != "ProcessState(7)" {
		t.Errorf("ProcessState(7).String() = %q", got)
	}
	for s, want := range map[ProcessState]bool{ProcessRunning: false, ProcessStarting: false, ProcessBackoff: false, ProcessStopping: false,
		ProcessStopped: true, ProcessExited: true, ProcessFatal: true, ProcessUnknown: true} {
		if s.Stopped() != want || s.Running() == want {
			t.Errorf("%v: Stopped() = %v, Running() = %v; want Stopped %v", s, s.Stopped(), s.Running(), want)
		}
	}
}

func TestRawProcessInfoState(t *testing.T) {
	tests := []struct {
		name string
		raw  rawProcessInfo
		want ProcessState
	}{
		{"code wins", rawProcessInfo{State: 20, StateName: "RUNNING"}, ProcessRunning},
		{"title case", rawProcessInfo{State: 200, StateName: "Fatal"}, ProcessFatal},
		{"unknown code, known name", rawProcessInfo{State: 7, StateName: "Exited"}, ProcessExited},
		{"unknown both", rawProcessInfo{State: 7, StateName: "Weird"}, ProcessState(7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.raw.info().State; got != tt.want {
				t.Errorf("State = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeResponse(t *testing.T) {
	const (
		faultXML = `<?xml version='1.0'?><methodResponse><fault><value><struct>
<member><name>faultCode</name><value><int>70</int></value></member>
<member><name>faultString</name><value><string>NOT_RUNNING: grp:a</string></value></member>
</struct></value></fault></methodResponse>`
		tailXML = `<?xml version='1.0'?><methodResponse><params><param><value><array><data>
<value><string>caf&#233; &lt;fault&gt;</string></value><value><int>12</int></value><value><boolean>1</boolean></value>
</data></array></value></param></params></methodResponse>`
		multiXML = `<?xml version='1.0'?><methodResponse><params><param><value><array><data>
<value><struct><member><name>statecode</name><value><int>1</int></value></member><member><name>statename</name><value><string>RUNNING</string></value></member></struct></value>
<value><struct><member><name>faultCode</name><value><int>10</int></value></member><member><name>faultString</name><value><string>BAD_NAME: nope</string></value></member></struct></value>
<value><boolean>1</boolean></value>
<value><array><data></data></array></value>
</data></array></value></param></params></methodResponse>`
	)
	err := decodeResponse([]byte(faultXML), nil)
	var f *Fault
	if !errors.As(err, &f) || *f != (Fault{70, "NOT_RUNNING", "grp:a"}) {
		t.Errorf("fault response = %#v", err)
	}

	var raw []any
	if err := decodeResponse([]byte(tailXML), &raw); err != nil {
		t.Fatal(err)
	}
	tail, err := parseTail(raw)
	if err != nil || tail != (Tail{Data: "café <fault>", Offset: 12, Overflow: true}) {
		t.Errorf("tail = %+v, %v", tail, err)
	}

	raw = nil
	if err := decodeResponse([]byte(multiXML), &raw); err != nil {
		t.Fatal(err)
	}
	results, err := parseMulticall(raw, 4)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := results[0].Value.(map[string]any); !ok || m["statecode"] != int64(1) || m["statename"] != "RUNNING" || results[0].Err != nil {
		t.Errorf("result 0 = %#v", results[0])
	}
	if !IsFault(results[1].Err, FaultBadName) || results[1].Value != nil {
		t.Errorf("result 1 = %#v", results[1])
	}
	if results[2].Value != true || results[2].Err != nil {
		t.Errorf("result 2 = %#v", results[2])
	}
	if a, ok := results[3].Value.([]any); !ok || len(a) != 0 {
		t.Errorf("result 3 = %#v", results[3])
	}
	if _, err := parseMulticall(raw, 3); err == nil || err.Error() != "decode response: 4 results for 3 calls" {
		t.Errorf("parseMulticall count mismatch error = %v", err)
	}

	for _, bad := range [][]any{{"x", int64(1)}, {int64(1), int64(1), true}, {"x", "1", true}, {"x", int64(1), "true"}} {
		if _, err := parseTail(bad); err == nil {
			t.Errorf("parseTail(%#v) succeeded", bad)
		}
	}
	var state rawState
	if err := decodeResponse([]byte("<html>not xml-rpc"), &state); err == nil || !strings.HasPrefix(err.Error(), "decode response: ") {
		t.Errorf("garbage response error = %v", err)
	}
}

// newTestClient returns a Client for an httptest server serving handler at /RPC2.
func newTestClient(t *testing.T, handler http.HandlerFunc, cfg Config) (*Client, *httptest.Server) {
	t.Helper()
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)
	cfg.URL = ts.URL
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, ts
}

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantMsg string
		check   func(error) bool
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
			"http 500 Internal Server Error", func(err error) bool {
				var he *HTTPError
				return errors.As(err, &he) && he.StatusCode == 500 && !errors.Is(err, ErrUnauthorized)
			}},
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			"http 404 Not Found", func(err error) bool { var he *HTTPError; return errors.As(err, &he) && he.StatusCode == 404 }},
		{"401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) },
			"http 401 Unauthorized: wrong or missing username or password", func(err error) bool { return errors.Is(err, ErrUnauthorized) }},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://elsewhere.invalid/RPC2", http.StatusFound)
		},
			"http 302 Found", func(err error) bool { var he *HTTPError; return errors.As(err, &he) && he.StatusCode == 302 }},
		{"not xml", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hello")) },
			"decode response: EOF", func(err error) bool { return err != nil }},
		// Belt and braces: a server echoing the password never gets it into an error string.
		{"echoed password", func(w http.ResponseWriter, r *http.Request) {
			_, pw, _ := r.BasicAuth()
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>10</int></value></member>` +
				`<member><name>faultString</name><value><string>BAD_NAME: ` + pw + `</string></value></member></struct></value></fault></methodResponse>`))
		}, "BAD_NAME: xxxxx (code 10)", func(err error) bool { return IsFault(err, FaultBadName) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ts := newTestClient(t, tt.handler, Config{Username: "sg", Password: canary})
			_, err := c.GetState(context.Background())
			want := "supervisord " + ts.URL + "/RPC2: supervisor.getState: " + tt.wantMsg
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v, want %q", err, want)
			}
			if !tt.check(err) {
				t.Errorf("error %#v does not match its type checks", err)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	var got struct {
		method, path, contentType, user, pw, body string
		ok                                        bool
	}
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.contentType = r.Method, r.URL.Path, r.Header.Get("Content-Type")
		got.user, got.pw, got.ok = r.BasicAuth()
		b := new(strings.Builder)
		_, _ = io.Copy(b, r.Body)
		got.body = b.String()
		_, _ = w.Write([]byte(`<methodResponse><params><param><value><boolean>1</boolean></value></param></params></methodResponse>`))
	}, Config{Username: "sg", Password: canary})
	if err := c.StopProcess(context.Background(), "grp:a&b", true); err != nil {
		t.Fatal(err)
	}
	wantBody := `<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>supervisor.stopProcess</methodName><params>` +
		`<param><value><string>grp:a&amp;b</string></value></param><param><value><boolean>1</boolean></value></param></params></methodCall>`
	if got.method != "POST" || got.path != "/RPC2" || got.contentType != "text/xml" || !got.ok || got.user != "sg" || got.pw != canary || got.body != wantBody {
		t.Errorf("request = %+v", got)
	}
}

// TestCancelAbortsRequest proves a cancelled context really aborts the HTTP
// request: the server sees its request context end.
func TestCancelAbortsRequest(t *testing.T) {
	arrived := make(chan struct{})
	aborted := make(chan struct{})
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		// net/http notices a closed connection only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		close(arrived)
		select {
		case <-r.Context().Done():
			close(aborted)
		case <-time.After(time.Minute):
		}
	}, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.StopProcess(ctx, "x", true) }()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("StopProcess = %v, want context.Canceled", err)
	}
	select {
	case <-aborted:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the request aborted")
	}
}
