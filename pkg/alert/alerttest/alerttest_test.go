package alerttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// recordingTB captures Errorf so a test can check that a fake fails the
// test it serves.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

type reply struct {
	status int
	header http.Header
	body   string
}

func post(t *testing.T, client *http.Client, rawURL, contentType, body string, header ...string) (reply, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

func mustPost(t *testing.T, rawURL, contentType, body string, header ...string) reply {
	t.Helper()
	r, err := post(t, nil, rawURL, contentType, body, header...)
	if err != nil {
		t.Fatalf("post %s: %v", rawURL, err)
	}
	return r
}

func blocksJSON(blocks ...string) string { return "[" + strings.Join(blocks, ",") + "]" }

func TestSlackWebhookContract(t *testing.T) {
	long := strings.Repeat("x", 151)
	many := make([]string, 51)
	for i := range many {
		many[i] = `{"type":"divider"}`
	}
	tests := []struct {
		name        string
		path        string // appended to the base URL; "" means the webhook path
		contentType string
		body        string
		wantStatus  int
		wantBody    string // for failures, the error code
	}{
		{name: "text", body: `{"text":"hello"}`, wantStatus: 200, wantBody: "ok"},
		{name: "blocks", body: `{"blocks":` + blocksJSON(`{"type":"header","text":{"type":"plain_text","text":"hi","emoji":true}}`,
			`{"type":"section","fields":[{"type":"mrkdwn","text":"*a*"}]}`,
			`{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Go"},"url":"https://x"}]}`,
			`{"type":"context","elements":[{"type":"mrkdwn","text":"ctx"}]}`) + `}`, wantStatus: 200, wantBody: "ok"},
		{name: "wrong path", path: "/services/T/B/wrong", body: `{"text":"x"}`, wantStatus: 404, wantBody: "no_service"},
		{name: "form body", contentType: "application/x-www-form-urlencoded", body: "payload=x", wantStatus: 400, wantBody: "invalid_payload"},
		{name: "not JSON", body: `{"text":`, wantStatus: 400, wantBody: "invalid_payload"},
		{name: "no text", body: `{"text":"  "}`, wantStatus: 400, wantBody: "no_text"},
		{name: "header too long", body: `{"blocks":[{"type":"header","text":{"type":"plain_text","text":"` + long + `"}}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "header mrkdwn", body: `{"blocks":[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "section too long", body: `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("y", 3001) + `"}}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "section empty", body: `{"blocks":[{"type":"section"}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "too many fields", body: `{"blocks":[{"type":"section","fields":[` + strings.TrimSuffix(strings.Repeat(`{"type":"mrkdwn","text":"f"},`, 11), ",") + `]}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "too many blocks", body: `{"blocks":` + blocksJSON(many...) + `}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "unknown block", body: `{"blocks":[{"type":"banner"}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "emoji on mrkdwn", body: `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x","emoji":true}}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "button label too long", body: `{"blocks":[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"` + strings.Repeat("b", 76) + `"}}]}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
		{name: "duplicate block_id", body: `{"blocks":[{"type":"divider","block_id":"a"},{"type":"divider","block_id":"a"}]}`, wantStatus: 400, wantBody: "invalid_blocks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewSlackWebhook(t)
			h.ExpectViolations()
			u := h.URL()
			if tc.path != "" {
				u = h.BaseURL() + tc.path
			}
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			r := mustPost(t, u, ct, tc.body)
			if r.status != tc.wantStatus || r.body != tc.wantBody {
				t.Errorf("answer = %d %q, want %d %q", r.status, r.body, tc.wantStatus, tc.wantBody)
			}
			valid := tc.wantStatus == 200
			if got := len(h.Violations()) == 0; got != valid {
				t.Errorf("violations = %q, want none: %v", h.Violations(), valid)
			}
			if got := len(h.Messages()); got != map[bool]int{true: 1, false: 0}[valid] {
				t.Errorf("recorded %d messages, valid=%v", got, valid)
			}
		})
	}
}

func TestSlackWebhookRecordsBlocks(t *testing.T) {
	h := NewSlackWebhook(t)
	body := `{"text":"fallback","blocks":[{"type":"header","text":{"type":"plain_text","text":"Head"}},` +
		`{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Runbook"},"url":"https://wiki/x"}]}]}`
	mustPost(t, h.URL(), "application/json", body)
	msgs := h.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want 1", len(msgs))
	}
	m := msgs[0]
	if got := strings.Join(m.BlockTypes(), ","); got != "header,actions" {
		t.Errorf("block types = %s", got)
	}
	if got := m.BlockText(); got != "Head\nRunbook" {
		t.Errorf("block text = %q", got)
	}
	if got := m.ButtonURLs(); len(got) != 1 || got[0] != "https://wiki/x" {
		t.Errorf("button URLs = %q", got)
	}
	if !strings.Contains(h.URL(), h.Secret()) || len(h.Secret()) < 24 {
		t.Errorf("secret %q is not the end of the URL %q", h.Secret(), h.URL())
	}
}

func TestUnexpectedViolationFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	h := NewSlackWebhook(rec)
	r := mustPost(t, h.URL(), "application/json", `{}`)
	if r.status != 400 {
		t.Errorf("status = %d, want 400", r.status)
	}
	errs := rec.errors()
	if len(errs) != 1 || !strings.Contains(errs[0], "no_text") {
		t.Errorf("Errorf calls = %q, want one naming no_text", errs)
	}
}

func TestSlackAPIContract(t *testing.T) {
	const token = "xoxb-test-token"
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const formType = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		header      []string
		wantErr     string // "" for ok:true
	}{
		{name: "form with token field", method: "chat.postMessage", contentType: formType, body: form("token", token, "channel", "#alerts", "text", "hi")},
		{name: "form with bearer", method: "chat.postMessage", contentType: formType, body: form("channel", "alerts", "blocks", `[{"type":"divider"}]`), header: []string{"Authorization", "Bearer " + token}},
		{name: "json with bearer", method: "chat.postMessage", contentType: "application/json", body: `{"channel":"C0123456789","text":"hi"}`, header: []string{"Authorization", "Bearer " + token}},
		{name: "no token", method: "chat.postMessage", contentType: formType, body: form("channel", "a", "text", "x"), wantErr: "not_authed"},
		{name: "wrong token", method: "chat.postMessage", contentType: formType, body: form("token", "xoxb-other", "channel", "a", "text", "x"), wantErr: "invalid_auth"},
		{name: "json token field is not auth", method: "chat.postMessage", contentType: "application/json", body: `{"token":"` + token + `","channel":"a","text":"x"}`, wantErr: "not_authed"},
		{name: "no channel", method: "chat.postMessage", contentType: formType, body: form("token", token, "text", "x"), wantErr: "channel_not_found"},
		{name: "no text", method: "chat.postMessage", contentType: formType, body: form("token", token, "channel", "a"), wantErr: "no_text"},
		{name: "bad blocks", method: "chat.postMessage", contentType: formType, body: form("token", token, "channel", "a", "blocks", `[{"type":"header","text":{"type":"plain_text","text":""}}]`), wantErr: "invalid_blocks"},
		{name: "text too long", method: "chat.postMessage", contentType: formType, body: form("token", token, "channel", "a", "text", strings.Repeat("t", 40001)), wantErr: "msg_too_long"},
		{name: "unknown thread", method: "chat.postMessage", contentType: formType, body: form("token", token, "channel", "a", "text", "x", "thread_ts", "1.000001"), wantErr: "thread_not_found"},
		{name: "update unknown message", method: "chat.update", contentType: formType, body: form("token", token, "channel", "C0123456789", "ts", "1.000001", "text", "x"), wantErr: "message_not_found"},
		{name: "update by channel name", method: "chat.update", contentType: formType, body: form("token", token, "channel", "#alerts", "ts", "1.000001", "text", "x"), wantErr: "channel_not_found"},
		{name: "unknown method", method: "chat.delete", contentType: formType, body: form("token", token), wantErr: "unknown_method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := NewSlackAPI(t, token)
			api.ExpectViolations()
			r := mustPost(t, api.URL()+tc.method, tc.contentType, tc.body, tc.header...)
			var ans struct {
				OK      bool   `json:"ok"`
				Error   string `json:"error"`
				Channel string `json:"channel"`
				TS      string `json:"ts"`
			}
			if err := json.Unmarshal([]byte(r.body), &ans); err != nil || r.status != 200 {
				t.Fatalf("answer %d %q: want 200 JSON (%v)", r.status, r.body, err)
			}
			if tc.wantErr == "" {
				if !ans.OK || !strings.HasPrefix(ans.Channel, "C") || ans.TS == "" || len(api.Violations()) != 0 {
					t.Errorf("answer = %+v, violations %q: want ok with channel and ts", ans, api.Violations())
				}
				return
			}
			if ans.OK || ans.Error != tc.wantErr {
				t.Errorf("answer = %+v, want error %s", ans, tc.wantErr)
			}
			if v := api.Violations(); len(v) != 1 || !strings.HasPrefix(v[0], tc.wantErr) {
				t.Errorf("violations = %q, want one %s", v, tc.wantErr)
			}
			if len(api.Calls()) != 0 {
				t.Errorf("recorded %d calls for an invalid request", len(api.Calls()))
			}
		})
	}
}

func TestSlackAPIUpdateAndThread(t *testing.T) {
	const token = "xoxb-1"
	api := NewSlackAPI(t, token)
	send := func(method string, kv ...string) (channel, ts string) {
		t.Helper()
		v := url.Values{"token": {token}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		r := mustPost(t, api.URL()+method, "application/x-www-form-urlencoded", v.Encode())
		var ans struct {
			OK      bool   `json:"ok"`
			Channel string `json:"channel"`
			TS      string `json:"ts"`
		}
		if err := json.Unmarshal([]byte(r.body), &ans); err != nil || !ans.OK {
			t.Fatalf("%s: answer %q (%v)", method, r.body, err)
		}
		return ans.Channel, ans.TS
	}
	ch, ts := send("chat.postMessage", "channel", "#ops", "text", "firing")
	if ch != api.ChannelID("#ops") || ch != api.ChannelID("ops") {
		t.Errorf("channel = %s, want %s", ch, api.ChannelID("ops"))
	}
	if _, uts := send("chat.update", "channel", ch, "ts", ts, "text", "RESOLVED"); uts != ts {
		t.Errorf("update ts = %s, want %s", uts, ts)
	}
	send("chat.postMessage", "channel", ch, "thread_ts", ts, "text", "resolved after 5m")
	m, ok := api.Message(ch, ts)
	if !ok || m.Text != "RESOLVED" {
		t.Errorf("message = %+v, %v: want the updated text", m, ok)
	}
	if r := api.Replies(ch, ts); len(r) != 1 || r[0].Text != "resolved after 5m" || r[0].ThreadTS != ts {
		t.Errorf("replies = %+v", r)
	}
	if top := api.TopLevel(); len(top) != 1 || top[0].Text != "RESOLVED" {
		t.Errorf("top level = %+v", top)
	}
	if calls := api.Calls(); len(calls) != 3 || calls[1].Method != "chat.update" {
		t.Errorf("calls = %+v", calls)
	}
}

func validPDEvent() map[string]any {
	return map[string]any{
		"routing_key":  strings.Repeat("a", 32),
		"event_action": "trigger",
		"dedup_key":    "host/g:p/fatal",
		"payload": map[string]any{
			"summary": "p died", "source": "host", "severity": "critical",
			"timestamp": "2024-05-01T10:00:00.123Z", "custom_details": map[string]any{"count": 3},
		},
		"links": []any{map[string]any{"href": "https://runbook", "text": "Runbook"}},
	}
}

func TestPagerDutyContract(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(e map[string]any)
		ctype  string
		path   string
		status int
	}{
		{name: "valid trigger", edit: func(map[string]any) {}, status: 202},
		{name: "valid resolve", edit: func(e map[string]any) { e["event_action"] = "resolve"; delete(e, "payload") }, status: 202},
		{name: "trigger without dedup key", edit: func(e map[string]any) { delete(e, "dedup_key") }, status: 202},
		{name: "short routing key", edit: func(e map[string]any) { e["routing_key"] = strings.Repeat("a", 31) }, status: 400},
		{name: "bad action", edit: func(e map[string]any) { e["event_action"] = "page" }, status: 400},
		{name: "resolve without dedup key", edit: func(e map[string]any) { e["event_action"] = "resolve"; delete(e, "dedup_key") }, status: 400},
		{name: "dedup key too long", edit: func(e map[string]any) { e["dedup_key"] = strings.Repeat("k", 256) }, status: 400},
		{name: "trigger without payload", edit: func(e map[string]any) { delete(e, "payload") }, status: 400},
		{name: "summary too long", edit: func(e map[string]any) { pl(e)["summary"] = strings.Repeat("s", 1025) }, status: 400},
		{name: "no source", edit: func(e map[string]any) { delete(pl(e), "source") }, status: 400},
		{name: "bad severity", edit: func(e map[string]any) { pl(e)["severity"] = "fatal" }, status: 400},
		{name: "bad timestamp", edit: func(e map[string]any) { pl(e)["timestamp"] = "yesterday" }, status: 400},
		{name: "unknown field", edit: func(e map[string]any) { e["dedupkey"] = "x" }, status: 400},
		{name: "link without href", edit: func(e map[string]any) { e["links"] = []any{map[string]any{"text": "x"}} }, status: 400},
		{name: "wrong content type", edit: func(map[string]any) {}, ctype: "text/plain", status: 400},
		{name: "wrong path", edit: func(map[string]any) {}, path: "/v1/enqueue", status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pd := NewPagerDuty(t)
			pd.ExpectViolations()
			e := validPDEvent()
			tc.edit(e)
			b, _ := json.Marshal(e)
			ctype, path := tc.ctype, tc.path
			if ctype == "" {
				ctype = "application/json"
			}
			if path == "" {
				path = "/v2/enqueue"
			}
			r := mustPost(t, pd.URL()+path, ctype, string(b))
			if r.status != tc.status {
				t.Fatalf("status = %d (%s), want %d", r.status, r.body, tc.status)
			}
			var ans struct {
				Status   string `json:"status"`
				Message  string `json:"message"`
				DedupKey string `json:"dedup_key"`
			}
			if tc.status == 202 {
				if err := json.Unmarshal([]byte(r.body), &ans); err != nil || ans.Status != "success" || ans.Message != "Event processed" || ans.DedupKey == "" {
					t.Errorf("answer = %s (%v)", r.body, err)
				}
				if len(pd.Violations()) != 0 || len(pd.Events()) != 1 {
					t.Errorf("violations %q, events %d: want none and 1", pd.Violations(), len(pd.Events()))
				}
				return
			}
			if tc.status == 400 && (json.Unmarshal([]byte(r.body), &ans) != nil || ans.Status != "invalid event") {
				t.Errorf("answer = %s, want status invalid event", r.body)
			}
			if len(pd.Violations()) == 0 || len(pd.Events()) != 0 {
				t.Errorf("violations %q, events %d: want some and 0", pd.Violations(), len(pd.Events()))
			}
		})
	}
}

func pl(e map[string]any) map[string]any { return e["payload"].(map[string]any) }

func TestPagerDutyCounts(t *testing.T) {
	pd := NewPagerDuty(t)
	send := func(action string) {
		e := validPDEvent()
		e["event_action"] = action
		b, _ := json.Marshal(e)
		mustPost(t, pd.URL()+"/v2/enqueue", "application/json", string(b))
	}
	send("trigger")
	send("trigger")
	send("resolve")
	const key = "host/g:p/fatal"
	if pd.Triggers(key) != 2 || pd.Resolves(key) != 1 || pd.Triggers("other") != 0 {
		t.Errorf("triggers %d resolves %d", pd.Triggers(key), pd.Resolves(key))
	}
	last, ok := pd.Last(key)
	if !ok || last.Action != "resolve" {
		t.Errorf("last = %+v, %v", last, ok)
	}
	first := pd.Events()[0]
	if first.Payload.Details()["count"] != float64(3) || first.Links[0].Href != "https://runbook" {
		t.Errorf("first event = %+v", first)
	}
}

func TestAlertmanagerContract(t *testing.T) {
	const start, end = "2024-05-01T10:00:00Z", "2024-05-01T10:05:00.5Z"
	tests := []struct {
		name   string
		body   string
		ctype  string
		status int
	}{
		{name: "firing", body: `[{"labels":{"alertname":"X","severity":"critical"},"annotations":{"summary":"s"},"startsAt":"` + start + `","generatorURL":"http://sg/x"}]`, status: 200},
		{name: "resolved", body: `[{"labels":{"alertname":"X"},"startsAt":"` + start + `","endsAt":"` + end + `"}]`, status: 200},
		{name: "no times", body: `[{"labels":{"alertname":"X"}}]`, status: 200},
		{name: "empty array", body: `[]`, status: 200},
		{name: "no labels", body: `[{"annotations":{"summary":"s"}}]`, status: 400},
		{name: "empty labels", body: `[{"labels":{}}]`, status: 400},
		{name: "bad label name", body: `[{"labels":{"alert-name":"X"}}]`, status: 400},
		{name: "bad annotation name", body: `[{"labels":{"a":"X"},"annotations":{"1x":"y"}}]`, status: 400},
		{name: "label not a string", body: `[{"labels":{"a":1}}]`, status: 400},
		{name: "ends before starts", body: `[{"labels":{"a":"X"},"startsAt":"` + end + `","endsAt":"` + start + `"}]`, status: 400},
		{name: "bad time", body: `[{"labels":{"a":"X"},"startsAt":"10:00"}]`, status: 400},
		{name: "bad generator URL", body: `[{"labels":{"a":"X"},"generatorURL":"not a url"}]`, status: 400},
		{name: "unknown field", body: `[{"labels":{"a":"X"},"startAt":"` + start + `"}]`, status: 400},
		{name: "object not array", body: `{"labels":{"a":"X"}}`, status: 400},
		{name: "wrong content type", body: `[]`, ctype: "text/plain", status: 415},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			am := NewAlertmanager(t)
			am.ExpectViolations()
			ctype := tc.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			r := mustPost(t, am.URL()+"/api/v2/alerts", ctype, tc.body)
			if r.status != tc.status {
				t.Fatalf("status = %d (%s), want %d", r.status, r.body, tc.status)
			}
			if valid := tc.status == 200; valid != (len(am.Violations()) == 0) || valid != (am.Posts() == 1) {
				t.Errorf("violations %q, posts %d", am.Violations(), am.Posts())
			}
		})
	}
}

func TestAlertmanagerBasicAuthAndLatest(t *testing.T) {
	am := NewAlertmanager(t)
	am.RequireBasicAuth("sg", "pw")
	am.ExpectViolations()
	body := func(sev, ends string) string {
		e := ""
		if ends != "" {
			e = `,"endsAt":"` + ends + `"`
		}
		return `[{"labels":{"alertname":"X","severity":"` + sev + `"},"startsAt":"2024-05-01T10:00:00Z"` + e + `}]`
	}
	if r := mustPost(t, am.URL()+"/api/v2/alerts", "application/json", body("critical", "")); r.status != 401 {
		t.Fatalf("no credentials: status %d, want 401", r.status)
	}
	auth := []string{"Authorization", "Basic c2c6cHc="} // sg:pw
	mustPost(t, am.URL()+"/api/v2/alerts", "application/json", body("critical", ""), auth...)
	mustPost(t, am.URL()+"/api/v2/alerts", "application/json", body("warning", ""), auth...)
	mustPost(t, am.URL()+"/api/v2/alerts", "application/json", body("critical", "2024-05-01T10:09:00Z"), auth...)
	latest := am.Latest("alertname", "X")
	if len(latest) != 2 || latest[0].Labels["severity"] != "critical" || latest[0].Firing(time.Now()) || !latest[1].Firing(time.Now()) {
		t.Errorf("latest = %+v", latest)
	}
	if v := am.Violations(); len(v) != 1 || !strings.HasPrefix(v[0], "unauthorized") {
		t.Errorf("violations = %q", v)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		wantStatus int
		wantHeader string // Retry-After
		wantBody   string // substring
	}{
		{name: "500", fault: Status(500), wantStatus: 500},
		{name: "429 with Retry-After", fault: RateLimited(7 * time.Second), wantStatus: 429, wantHeader: "7", wantBody: "throttle"},
		{name: "429 without Retry-After", fault: RateLimited(0), wantStatus: 429, wantBody: "throttle"},
		{name: "400", fault: Status(400), wantStatus: 400, wantBody: "invalid event"},
		{name: "custom body", fault: Fault{Status: 503, Body: `{"x":1}`}, wantStatus: 503, wantBody: `{"x":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pd := NewPagerDuty(t)
			pd.Script(tc.fault)
			b, _ := json.Marshal(validPDEvent())
			r := mustPost(t, pd.URL()+"/v2/enqueue", "application/json", string(b))
			if r.status != tc.wantStatus || r.header.Get("Retry-After") != tc.wantHeader || !strings.Contains(r.body, tc.wantBody) {
				t.Errorf("answer = %d Retry-After %q %q", r.status, r.header.Get("Retry-After"), r.body)
			}
			if len(pd.Events()) != 0 {
				t.Errorf("a faulted request was recorded")
			}
			// The script is used up: the next request is served normally.
			if r := mustPost(t, pd.URL()+"/v2/enqueue", "application/json", string(b)); r.status != 202 {
				t.Errorf("after the script: status %d, want 202", r.status)
			}
		})
	}
}

func TestSlackFaults(t *testing.T) {
	api := NewSlackAPI(t, "xoxb-1")
	api.Script(SlackError("channel_not_found"), RateLimited(3*time.Second), Status(502))
	body := url.Values{"token": {"xoxb-1"}, "channel": {"a"}, "text": {"x"}}.Encode()
	want := []struct {
		status int
		body   string
	}{{200, `"error":"channel_not_found"`}, {429, `"error":"ratelimited"`}, {502, "<html>"}, {200, `"ok":true`}}
	for i, w := range want {
		r := mustPost(t, api.URL()+"chat.postMessage", "application/x-www-form-urlencoded", body)
		if r.status != w.status || !strings.Contains(r.body, w.body) {
			t.Errorf("request %d: %d %q, want %d with %q", i, r.status, r.body, w.status, w.body)
		}
	}
	hook := NewSlackWebhook(t)
	hook.Script(SlackError("channel_is_archived"))
	if r := mustPost(t, hook.URL(), "application/json", `{"text":"x"}`); r.status != 400 || r.body != "channel_is_archived" {
		t.Errorf("webhook fault: %d %q", r.status, r.body)
	}
}

func TestHangUntilClientGivesUp(t *testing.T) {
	am := NewAlertmanager(t)
	am.FailAll(Hang())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, am.URL()+"/api/v2/alerts", strings.NewReader(`[]`))
	req.Header.Set("Content-Type", "application/json")
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	am.Heal()
	if r := mustPost(t, am.URL()+"/api/v2/alerts", "application/json", `[]`); r.status != 200 {
		t.Errorf("after Heal: status %d", r.status)
	}
}

func TestHangReleasedByClose(t *testing.T) {
	am := NewAlertmanager(t)
	am.Script(Hang())
	errc := make(chan error, 1)
	go func() {
		_, err := post(t, &http.Client{Timeout: time.Minute}, am.URL()+"/api/v2/alerts", "application/json", `[]`)
		errc <- err
	}()
	if !am.WaitUntil(5*time.Second, func() bool { return am.Requests() == 1 }) {
		t.Fatal("the request never arrived")
	}
	am.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("a hung request got an answer")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not release the hanging request")
	}
}

func TestDropAndRefuse(t *testing.T) {
	pd := NewPagerDuty(t)
	b, _ := json.Marshal(validPDEvent())
	pd.Script(Drop())
	if _, err := post(t, nil, pd.URL()+"/v2/enqueue", "application/json", string(b)); err == nil {
		t.Error("dropped connection: got an answer")
	}
	// Keep a connection alive, then refuse: even the idle connection must go.
	client := &http.Client{Timeout: 5 * time.Second}
	if _, err := post(t, client, pd.URL()+"/v2/enqueue", "application/json", string(b)); err != nil {
		t.Fatalf("post: %v", err)
	}
	pd.Refuse()
	_, err := post(t, client, pd.URL()+"/v2/enqueue", "application/json", string(b))
	if err == nil {
		t.Fatal("refused: got an answer")
	}
	// The idle connection may fail first; a fresh one is refused outright.
	_, err = post(t, &http.Client{Timeout: 5 * time.Second}, pd.URL()+"/v2/enqueue", "application/json", string(b))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want connection refused", err)
	}
	pd.Heal()
	if r, err := post(t, client, pd.URL()+"/v2/enqueue", "application/json", string(b)); err != nil || r.status != 202 {
		t.Errorf("after Heal: %+v, %v", r, err)
	}
	if got := len(pd.Events()); got != 2 {
		t.Errorf("events = %d, want 2", got)
	}
}

func TestWaitUntilSeesRequestsFromElsewhere(t *testing.T) {
	pd := NewPagerDuty(t)
	b, _ := json.Marshal(validPDEvent())
	go func() {
		for range 3 {
			resp, err := http.Post(pd.URL()+"/v2/enqueue", "application/json", strings.NewReader(string(b)))
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	if !pd.WaitUntil(5*time.Second, func() bool { return pd.Triggers("host/g:p/fatal") == 3 }) {
		t.Fatalf("triggers = %d, want 3", pd.Triggers("host/g:p/fatal"))
	}
	if pd.WaitUntil(50*time.Millisecond, func() bool { return pd.Triggers("host/g:p/fatal") == 4 }) {
		t.Error("WaitUntil reported a condition that never held")
	}
}

// TestHelperProcess is not a real test: TestFakeServesAnotherProcess runs
// the test binary again with ALERTTEST_HELPER_URL set, and this posts one
// event there, as a listener binary would.
func TestHelperProcess(t *testing.T) {
	target := os.Getenv("ALERTTEST_HELPER_URL")
	if target == "" {
		t.Skip("helper process only")
	}
	b, _ := json.Marshal(validPDEvent())
	resp, err := http.Post(target, "application/json", strings.NewReader(string(b)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper post:", err)
		os.Exit(2)
	}
	resp.Body.Close()
	os.Exit(0)
}

func TestFakeServesAnotherProcess(t *testing.T) {
	pd := NewPagerDuty(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "ALERTTEST_HELPER_URL="+pd.URL()+"/v2/enqueue")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	if !pd.WaitUntil(5*time.Second, func() bool { return pd.Triggers("host/g:p/fatal") == 1 }) {
		t.Fatalf("events = %+v, want the helper's trigger", pd.Events())
	}
}
