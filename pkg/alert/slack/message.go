package slack

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/superguard/superguard/pkg/alert"
)

// Slack's limits, in characters (Block Kit reference, chat.postMessage).
const (
	maxHeader    = 150  // header block text
	maxSection   = 3000 // section text
	maxField     = 2000 // each section field
	maxButtonURL = 3000 // button url
	maxText      = 3000 // our cap on the fallback text (Slack's is 40,000; notifications show ~150)
)

const ellipsis = "…"

// message is a rendered Slack message: Block Kit blocks and the plain-text
// fallback shown in notifications and old clients.
type message struct {
	text   string
	blocks []slack.Block
}

var severityEmoji = map[alert.Severity]string{
	alert.Critical: ":rotating_light:",
	alert.Error:    ":red_circle:",
	alert.Warning:  ":warning:",
	alert.Info:     ":information_source:",
}

// render lays out the incident message: the trigger, or its state after an
// update, reminder or resolve.
func render(n *alert.Notification) message {
	status := strings.ToUpper(n.Severity.String())
	emoji := severityEmoji[n.Severity]
	if n.Kind == alert.Resolve {
		status, emoji = "RESOLVED", ":white_check_mark:"
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(emoji + " " + status + ": " + oneLine(n.Summary))),
		slack.NewSectionBlock(nil, fields(n), nil),
	}
	if d := details(n.Details); d != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(d), nil, nil))
	}
	if n.LogTail != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(codeBlock("*stderr tail*", n.LogTail, maxSection)), nil, nil))
	}
	if n.Runbook != "" {
		if isWebURL(n.Runbook) && utf8.RuneCountInString(n.Runbook) <= maxButtonURL {
			btn := slack.NewButtonBlockElement("runbook", "runbook", plain("Open runbook")).WithURL(n.Runbook)
			blocks = append(blocks, slack.NewActionBlock("", btn))
		} else {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(escape("*Runbook:* ", n.Runbook, maxSection)), nil, nil))
		}
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(contextLine(n))))
	text := fmt.Sprintf("[%s] %s (%s, count %d)", status, oneLine(n.Summary), where(n), count(n))
	return message{text: escape("", text, maxText), blocks: blocks}
}

// renderReply lays out the thread reply that tells the channel what changed.
func renderReply(n *alert.Notification) message {
	var emoji, what string
	switch {
	case n.Kind == alert.Resolve:
		emoji, what = ":white_check_mark:", "Resolved"
		if !n.FirstSeen.IsZero() && n.Time.After(n.FirstSeen) {
			what += " after " + n.Time.Sub(n.FirstSeen).Round(time.Second).String()
		}
	case n.Reminder:
		emoji, what = ":repeat:", "Still firing"
	default:
		emoji, what = severityEmoji[n.Severity], "Update ("+n.Severity.String()+")"
	}
	what += fmt.Sprintf(", count %d", count(n))
	body := emoji + " *" + what + "*\n" + escape("", oneLine(n.Summary), maxSection/2)
	if n.Action != "" {
		body += "\n" + escape("*Action:* ", oneLine(n.Action), maxSection/4)
	}
	return message{
		text:   escape("", what+": "+oneLine(n.Summary), maxText),
		blocks: []slack.Block{slack.NewSectionBlock(mrkdwn(cut(body, maxSection)), nil, nil)},
	}
}

func fields(n *alert.Notification) []*slack.TextBlockObject {
	var out []*slack.TextBlockObject
	add := func(name, value string) {
		if value != "" {
			out = append(out, mrkdwn(escape("*"+name+"*\n", value, maxField)))
		}
	}
	add("Host", n.Host)
	add("Process", n.Process())
	add("Condition", string(n.Condition))
	add("Severity", n.Severity.String())
	add("Count", strconv.Itoa(count(n)))
	add("Action", n.Action)
	if !n.FirstSeen.IsZero() {
		// Slack renders <!date^...> in the reader's time zone.
		out = append(out, mrkdwn(fmt.Sprintf("*First seen*\n<!date^%d^{date_short_pretty} {time_secs}|%s>",
			n.FirstSeen.Unix(), n.FirstSeen.UTC().Format(time.RFC3339))))
	}
	return out
}

// details renders the details map as sorted "key: value" lines.
func details(d map[string]string) string {
	if len(d) == 0 {
		return ""
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("*Details*")
	for _, k := range keys {
		b.WriteString("\n• ")
		b.WriteString(escapeAll(k))
		b.WriteString(": ")
		b.WriteString(escapeAll(oneLine(d[k])))
	}
	return cut(b.String(), maxSection)
}

func contextLine(n *alert.Notification) string {
	parts := []string{"superguard"}
	if n.Listener != "" {
		parts = append(parts, escapeAll(n.Listener))
	}
	if n.IncidentID != "" {
		parts = append(parts, "incident "+escapeAll(n.IncidentID))
	}
	if n.TraceID != "" {
		parts = append(parts, "trace "+escapeAll(n.TraceID))
	}
	if n.Reminder {
		parts = append(parts, ":repeat: reminder, still firing")
	}
	if n.Flapping {
		parts = append(parts, ":warning: flapping")
	}
	return cut(strings.Join(parts, " · "), maxSection)
}

func where(n *alert.Notification) string {
	parts := []string{n.Host}
	if p := n.Process(); p != "" {
		parts = append(parts, p)
	}
	return strings.Join(append(parts, string(n.Condition)), " ")
}

func count(n *alert.Notification) int { return max(n.Count, 1) }

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, truncate(s, maxHeader), true, false)
}

// truncate cuts plain text to at most max characters.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	i, n := 0, 0
	for n < max-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i] + ellipsis
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// codeBlock renders title and the end of tail (the newest lines) in a code
// block of at most max characters.
func codeBlock(title, tail string, max int) string {
	const open, closing = "\n```\n", "\n```"
	room := max - utf8.RuneCountInString(title+open+closing)
	// A ``` inside the tail would close the block early.
	raw := strings.ReplaceAll(strings.TrimRight(tail, "\n"), "```", "`\u200b``")
	body := escapeAll(raw)
	if utf8.RuneCountInString(body) > room {
		body = escapedEnd(raw, room-1)
		// Start on a whole line when one begins soon enough.
		if i := strings.IndexByte(body, '\n'); i >= 0 && i < 200 {
			body = body[i+1:]
		}
		body = ellipsis + body
	}
	return title + open + body + closing
}

// escapedEnd escapes the longest end of raw that fits in n characters once
// escaped.
func escapedEnd(raw string, n int) string {
	var pieces []string
	used := 0
	for len(raw) > 0 {
		r, size := utf8.DecodeLastRuneInString(raw)
		piece := escapeRune(r)
		if used+utf8.RuneCountInString(piece) > n {
			break
		}
		pieces = append(pieces, piece)
		used += utf8.RuneCountInString(piece)
		raw = raw[:len(raw)-size]
	}
	var b strings.Builder
	for i := len(pieces) - 1; i >= 0; i-- {
		b.WriteString(pieces[i])
	}
	return b.String()
}

// escape returns prefix followed by s escaped for mrkdwn, cut to at most max
// characters in all; a cut never splits an escape sequence.
func escape(prefix, s string, max int) string {
	var b strings.Builder
	b.WriteString(prefix)
	room := max - utf8.RuneCountInString(prefix)
	full := escapeAll(s)
	if utf8.RuneCountInString(full) <= room {
		b.WriteString(full)
		return b.String()
	}
	used := 0
	for _, r := range s {
		piece := escapeRune(r)
		if used+utf8.RuneCountInString(piece) > room-1 {
			break
		}
		b.WriteString(piece)
		used += utf8.RuneCountInString(piece)
	}
	b.WriteString(ellipsis)
	return b.String()
}

func escapeRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeAll escapes the three characters mrkdwn reserves.
func escapeAll(s string) string { return escaper.Replace(s) }

// cut shortens text that is already escaped to at most max characters,
// backing off so no escape sequence is split.
func cut(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	i, n := 0, 0
	for i < len(s) && n < max-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	s = s[:i]
	if amp := strings.LastIndexByte(s, '&'); amp >= 0 && amp > len(s)-5 && !strings.Contains(s[amp:], ";") {
		s = s[:amp]
	}
	return s + ellipsis
}

// oneLine folds a summary onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
