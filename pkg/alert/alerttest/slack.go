package alerttest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/superguard/superguard/pkg/alert"
)

// SlackMessage is one accepted Slack call: a webhook post, a
// chat.postMessage or a chat.update.
type SlackMessage struct {
	Method   string  // "webhook", "chat.postMessage" or "chat.update"
	Channel  string  // channel ID (Web API) or the webhook's channel override
	TS       string  // ts of the message posted or updated (Web API only)
	ThreadTS string  // parent message ts when this is a thread reply
	Text     string  // the text (notification fallback)
	Blocks   []Block // decoded Block Kit blocks
}

// BlockTypes returns the type of each block, in order.
func (m SlackMessage) BlockTypes() []string {
	out := make([]string, len(m.Blocks))
	for i, b := range m.Blocks {
		out[i], _ = b["type"].(string)
	}
	return out
}

// BlockText returns every text inside the blocks, one per line, in order.
func (m SlackMessage) BlockText() string { return joinBlockText(m.Blocks) }

// ButtonURLs returns the url of every button in actions blocks and section
// accessories.
func (m SlackMessage) ButtonURLs() []string {
	var out []string
	add := func(el any) {
		if e, ok := el.(map[string]any); ok && e["type"] == "button" {
			if u, ok := e["url"].(string); ok {
				out = append(out, u)
			}
		}
	}
	for _, b := range m.Blocks {
		if els, ok := b["elements"].([]any); ok && b["type"] == "actions" {
			for _, el := range els {
				add(el)
			}
		}
		add(b["accessory"])
	}
	return out
}

// slackPayload is the part of a message body the fakes read.
type slackPayload struct {
	Channel     string          `json:"channel"`
	Text        string          `json:"text"`
	Blocks      json.RawMessage `json:"blocks"`
	Attachments json.RawMessage `json:"attachments"`
	ThreadTS    string          `json:"thread_ts"`
	TS          string          `json:"ts"`
}

// checkContent validates the message content rules shared by webhooks and
// the Web API.
func checkContent(p slackPayload) (blocks []Block, code string, probs []string) {
	hasBlocks := len(p.Blocks) > 0 && string(p.Blocks) != "null"
	if hasBlocks {
		// The Web API's form encoding sends blocks as a JSON string.
		if p.Blocks[0] == '"' {
			var s string
			if err := json.Unmarshal(p.Blocks, &s); err == nil {
				p.Blocks = json.RawMessage(s)
			}
		}
		blocks, probs = checkBlocks(p.Blocks)
		if len(probs) > 0 {
			return nil, "invalid_blocks", probs
		}
	}
	hasAttachments := len(p.Attachments) > 0 && string(p.Attachments) != "null"
	if strings.TrimSpace(p.Text) == "" && len(blocks) == 0 && !hasAttachments {
		return nil, "no_text", []string{"message has neither text nor blocks"}
	}
	if runes(p.Text) > maxMessageText {
		return nil, "msg_too_long", []string{fmt.Sprintf("text has %d characters, at most %d allowed", runes(p.Text), maxMessageText)}
	}
	return blocks, "", nil
}

// SlackWebhook is a fake Slack incoming webhook.
type SlackWebhook struct {
	*Server
	path string

	mu   sync.Mutex
	msgs []SlackMessage
}

// NewSlackWebhook starts a fake incoming webhook whose URL carries a random
// secret path, as a real one does (/services/T.../B.../secret). It accepts
// POSTed JSON with a non-empty text or valid Block Kit blocks and answers
// 200 "ok"; otherwise 400 with Slack's error code (invalid_payload, no_text,
// invalid_blocks), or 404 no_service for any other path.
func NewSlackWebhook(tb testing.TB) *SlackWebhook {
	tb.Helper()
	h := &SlackWebhook{path: "/services/T00000000/B00000000/" + alert.RandomHex(12)}
	h.Server = newServer(tb, "slack webhook", h)
	return h
}

// URL returns the webhook URL, secret path included.
func (h *SlackWebhook) URL() string { return h.BaseURL() + h.path }

// Secret returns the secret part of the webhook path, which must never
// appear in a log line or error.
func (h *SlackWebhook) Secret() string { return strings.TrimPrefix(h.path, "/services/") }

// Messages returns the accepted messages, oldest first.
func (h *SlackWebhook) Messages() []SlackMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]SlackMessage(nil), h.msgs...)
}

// Reset forgets the recorded messages (benchmarks call it to bound memory).
func (h *SlackWebhook) Reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = nil
}

func (h *SlackWebhook) check(r *http.Request, body []byte) (any, *invalid) {
	if r.URL.Path != h.path {
		return nil, &invalid{code: "no_service", status: http.StatusNotFound, problems: []string{"unknown webhook path"}}
	}
	if r.Method != http.MethodPost {
		return nil, &invalid{code: "invalid_method", status: http.StatusMethodNotAllowed, problems: []string{"method " + r.Method + ": want POST"}}
	}
	if mt := mediaType(r); mt != "application/json" {
		return nil, &invalid{code: "invalid_payload", status: http.StatusBadRequest, problems: []string{fmt.Sprintf("Content-Type %q: want application/json", mt)}}
	}
	var p slackPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, &invalid{code: "invalid_payload", status: http.StatusBadRequest, problems: []string{"body is not a JSON object: " + err.Error()}}
	}
	blocks, code, probs := checkContent(p)
	if code != "" {
		return nil, &invalid{code: code, status: http.StatusBadRequest, problems: probs}
	}
	return SlackMessage{Method: "webhook", Channel: p.Channel, ThreadTS: p.ThreadTS, Text: p.Text, Blocks: blocks}, nil
}

func (h *SlackWebhook) accept(w http.ResponseWriter, _ *http.Request, req any) {
	h.mu.Lock()
	h.msgs = append(h.msgs, req.(SlackMessage))
	h.mu.Unlock()
	writeText(w, http.StatusOK, "ok")
}

func (h *SlackWebhook) reject(w http.ResponseWriter, _ *http.Request, bad *invalid) {
	writeText(w, bad.status, bad.code)
}

func (h *SlackWebhook) fail(w http.ResponseWriter, f Fault) {
	if f.SlackError != "" {
		// Webhooks report errors as a 4xx status with the code as plain text.
		writeText(w, statusOr(f.Status, http.StatusBadRequest), f.SlackError)
		return
	}
	writeText(w, f.Status, slackStatusBody(f.Status))
}

// SlackAPI is a fake Slack Web API serving chat.postMessage and chat.update.
type SlackAPI struct {
	*Server
	token string

	mu       sync.Mutex
	seq      int
	calls    []SlackMessage
	messages map[string]*SlackMessage  // channel/ts -> current top-level message
	replies  map[string][]SlackMessage // channel/ts of the parent -> replies
}

// NewSlackAPI starts a fake Slack Web API that accepts token. It serves
// chat.postMessage and chat.update with form or JSON bodies (slack-go sends
// forms with the token as a field; JSON requires Authorization: Bearer).
// Channel names are mapped to stable IDs ("C..."), which the answers carry,
// as Slack's do; chat.update needs a channel ID and the ts of an existing
// message, and thread_ts must name an existing message. Answers follow the
// real API: HTTP 200 with ok:true, or ok:false and an error code.
func NewSlackAPI(tb testing.TB, token string) *SlackAPI {
	tb.Helper()
	a := &SlackAPI{
		token:    token,
		messages: make(map[string]*SlackMessage),
		replies:  make(map[string][]SlackMessage),
	}
	a.Server = newServer(tb, "slack api", a)
	return a
}

// URL returns the API base URL (with its trailing slash), for slack's
// Config.APIURL.
func (a *SlackAPI) URL() string { return a.BaseURL() + "/api/" }

// ChannelID returns the ID the fake gives a channel name ("#alerts" or
// "alerts"); an ID is returned unchanged.
func (a *SlackAPI) ChannelID(name string) string { return channelID(name) }

// Calls returns every accepted call, oldest first.
func (a *SlackAPI) Calls() []SlackMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]SlackMessage(nil), a.calls...)
}

// Message returns the current state of the top-level message channel/ts,
// after any chat.update.
func (a *SlackAPI) Message(channel, ts string) (SlackMessage, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.messages[channelID(channel)+"/"+ts]
	if !ok {
		return SlackMessage{}, false
	}
	return *m, true
}

// Replies returns the thread replies to channel/ts, oldest first.
func (a *SlackAPI) Replies(channel, ts string) []SlackMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]SlackMessage(nil), a.replies[channelID(channel)+"/"+ts]...)
}

// TopLevel returns the top-level messages posted so far (thread replies
// excluded), in their current state, oldest first.
func (a *SlackAPI) TopLevel() []SlackMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []SlackMessage
	for _, c := range a.calls {
		if c.Method == "chat.postMessage" && c.ThreadTS == "" {
			out = append(out, *a.messages[c.Channel+"/"+c.TS])
		}
	}
	return out
}

// Reset forgets every recorded call, message and reply.
func (a *SlackAPI) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = nil
	a.messages = make(map[string]*SlackMessage)
	a.replies = make(map[string][]SlackMessage)
}

type slackCall struct {
	method string
	p      slackPayload
	blocks []Block
}

func (a *SlackAPI) check(r *http.Request, body []byte) (any, *invalid) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || (method != "chat.postMessage" && method != "chat.update") {
		return nil, apiError("unknown_method", "method "+r.URL.Path+" is not served")
	}
	if r.Method != http.MethodPost {
		return nil, apiError("invalid_request", "HTTP method "+r.Method+": want POST")
	}
	var p slackPayload
	var token string
	switch mt := mediaType(r); mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, apiError("invalid_form_data", "form body: "+err.Error())
		}
		token = form.Get("token")
		p = slackPayload{Channel: form.Get("channel"), Text: form.Get("text"), ThreadTS: form.Get("thread_ts"), TS: form.Get("ts")}
		if b := form.Get("blocks"); b != "" {
			p.Blocks = json.RawMessage(b)
		}
		if at := form.Get("attachments"); at != "" {
			p.Attachments = json.RawMessage(at)
		}
	case "application/json":
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, apiError("invalid_json", "JSON body: "+err.Error())
		}
	default:
		return nil, apiError("invalid_form_data", fmt.Sprintf("Content-Type %q: want a form or JSON", mt))
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = bearer
	}
	switch {
	case token == "":
		return nil, apiError("not_authed", "no token in Authorization or the form")
	case token != a.token:
		return nil, apiError("invalid_auth", "wrong token")
	}
	if p.Channel == "" {
		return nil, apiError("channel_not_found", "channel missing")
	}
	blocks, code, probs := checkContent(p)
	if code != "" {
		return nil, apiError(code, probs...)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch method {
	case "chat.update":
		if !idPattern.MatchString(p.Channel) {
			return nil, apiError("channel_not_found", fmt.Sprintf("chat.update channel %q: want a channel ID", p.Channel))
		}
		if p.TS == "" {
			return nil, apiError("message_not_found", "chat.update without ts")
		}
		if _, ok := a.messages[p.Channel+"/"+p.TS]; !ok {
			return nil, apiError("message_not_found", "chat.update of unknown message "+p.Channel+"/"+p.TS)
		}
	case "chat.postMessage":
		if p.ThreadTS != "" {
			if _, ok := a.messages[channelID(p.Channel)+"/"+p.ThreadTS]; !ok {
				return nil, apiError("thread_not_found", "thread_ts names no message in "+p.Channel)
			}
		}
	}
	return slackCall{method: method, p: p, blocks: blocks}, nil
}

func (a *SlackAPI) accept(w http.ResponseWriter, _ *http.Request, req any) {
	c := req.(slackCall)
	m := SlackMessage{Method: c.method, Channel: channelID(c.p.Channel), ThreadTS: c.p.ThreadTS, Text: c.p.Text, Blocks: c.blocks}
	a.mu.Lock()
	switch c.method {
	case "chat.postMessage":
		a.seq++
		m.TS = fmt.Sprintf("%d.%06d", 1700000000+a.seq, a.seq)
		if m.ThreadTS != "" {
			parent := m.Channel + "/" + m.ThreadTS
			a.replies[parent] = append(a.replies[parent], m)
		} else {
			cp := m
			a.messages[m.Channel+"/"+m.TS] = &cp
		}
	case "chat.update":
		m.TS = c.p.TS
		cur := a.messages[m.Channel+"/"+m.TS]
		cur.Text, cur.Blocks = m.Text, m.Blocks
	}
	a.calls = append(a.calls, m)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS,
		"message": map[string]any{"type": "message", "text": m.Text, "ts": m.TS}})
}

func (a *SlackAPI) reject(w http.ResponseWriter, _ *http.Request, bad *invalid) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": bad.code})
}

func (a *SlackAPI) fail(w http.ResponseWriter, f Fault) {
	switch {
	case f.SlackError != "":
		writeJSON(w, statusOr(f.Status, http.StatusOK), map[string]any{"ok": false, "error": f.SlackError})
	case f.Status == http.StatusTooManyRequests:
		writeJSON(w, f.Status, map[string]any{"ok": false, "error": "ratelimited"})
	default:
		// Slack answers 5xx with an HTML page.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, "<html><body>"+slackStatusBody(f.Status)+"</body></html>")
	}
}

func apiError(code string, probs ...string) *invalid {
	return &invalid{code: code, status: http.StatusOK, problems: probs}
}

var idPattern = regexp.MustCompile(`^[CGD][A-Z0-9]{8,}$`)

// channelID maps a channel name to a stable fake ID; IDs pass through.
func channelID(name string) string {
	if idPattern.MatchString(name) {
		return name
	}
	h := fnv.New64a()
	_, _ = io.WriteString(h, strings.TrimPrefix(name, "#"))
	return fmt.Sprintf("C%010X", h.Sum64()&0xFFFFFFFFFF)
}

func slackStatusBody(code int) string {
	switch {
	case code == http.StatusTooManyRequests:
		return "rate_limited"
	case code >= 500:
		return "internal_error"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(code), " ", "_"))
}

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return r.Header.Get("Content-Type")
	}
	return mt
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("alerttest: marshal answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
