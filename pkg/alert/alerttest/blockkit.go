package alerttest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Block Kit limits, from Slack's Block Kit reference.
const (
	maxBlocks          = 50    // blocks per message
	maxBlockID         = 255   // block_id length
	maxHeaderText      = 150   // header block text
	maxTextObject      = 3000  // any text object, section text included
	maxSectionFields   = 10    // fields per section
	maxFieldText       = 2000  // each section field
	maxContextElements = 10    // elements per context block
	maxActionElements  = 25    // elements per actions block
	maxButtonText      = 75    // button label
	maxActionID        = 255   // action_id length
	maxURL             = 3000  // button and image URLs
	maxButtonValue     = 2000  // button value
	maxAltText         = 2000  // image alt_text
	maxMarkdownText    = 12000 // markdown block text
	maxMessageText     = 40000 // chat.postMessage text; longer is msg_too_long
)

// Block is one decoded Block Kit block as the fake received it.
type Block = map[string]any

// checkBlocks validates a Block Kit blocks array and returns the decoded
// blocks and every problem found.
func checkBlocks(raw json.RawMessage) ([]Block, []string) {
	var blocks []Block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, []string{fmt.Sprintf("blocks: not an array of objects: %v", err)}
	}
	var probs []string
	if len(blocks) > maxBlocks {
		probs = append(probs, fmt.Sprintf("blocks: %d blocks, at most %d allowed", len(blocks), maxBlocks))
	}
	ids := make(map[string]bool)
	for i, b := range blocks {
		at := fmt.Sprintf("blocks[%d]", i)
		if id, ok := b["block_id"]; ok {
			s, isStr := id.(string)
			switch {
			case !isStr || s == "":
				probs = append(probs, at+".block_id: must be a non-empty string")
			case runes(s) > maxBlockID:
				probs = append(probs, fmt.Sprintf("%s.block_id: longer than %d", at, maxBlockID))
			case ids[s]:
				probs = append(probs, fmt.Sprintf("%s.block_id: %q repeats an earlier block_id", at, s))
			}
			ids[s] = true
		}
		probs = append(probs, checkBlock(at, b)...)
	}
	return blocks, probs
}

func checkBlock(at string, b Block) []string {
	typ, _ := b["type"].(string)
	switch typ {
	case "header":
		return checkText(at+".text", b["text"], maxHeaderText, "plain_text")
	case "section":
		return checkSection(at, b)
	case "divider":
		return nil
	case "context":
		return checkContext(at, b)
	case "actions":
		return checkActions(at, b)
	case "image":
		return checkImage(at, b)
	case "rich_text":
		if els, ok := b["elements"].([]any); !ok || len(els) == 0 {
			return []string{at + ".elements: rich_text needs a non-empty elements array"}
		}
		return nil
	case "markdown":
		s, ok := b["text"].(string)
		if !ok || s == "" || runes(s) > maxMarkdownText {
			return []string{fmt.Sprintf("%s.text: markdown text must be 1..%d characters", at, maxMarkdownText)}
		}
		return nil
	case "":
		return []string{at + ".type: missing"}
	default:
		return []string{fmt.Sprintf("%s.type: %q is not a block type a message may carry", at, typ)}
	}
}

func checkSection(at string, b Block) []string {
	var probs []string
	_, hasText := b["text"]
	rawFields, hasFields := b["fields"]
	if !hasText && !hasFields {
		probs = append(probs, at+": a section needs text or fields")
	}
	if hasText {
		probs = append(probs, checkText(at+".text", b["text"], maxTextObject)...)
	}
	if hasFields {
		fields, ok := rawFields.([]any)
		switch {
		case !ok || len(fields) == 0:
			probs = append(probs, at+".fields: must be a non-empty array")
		case len(fields) > maxSectionFields:
			probs = append(probs, fmt.Sprintf("%s.fields: %d fields, at most %d allowed", at, len(fields), maxSectionFields))
		}
		for i, f := range fields {
			probs = append(probs, checkText(fmt.Sprintf("%s.fields[%d]", at, i), f, maxFieldText)...)
		}
	}
	if acc, ok := b["accessory"]; ok {
		el, isObj := acc.(map[string]any)
		if !isObj {
			probs = append(probs, at+".accessory: must be an object")
		} else {
			probs = append(probs, checkElement(at+".accessory", el)...)
		}
	}
	return probs
}

// elements returns the elements of b, a block of kind, with a problem when
// it has none or more than max.
func elements(at string, b Block, kind string, max int) ([]any, []string) {
	els, ok := b["elements"].([]any)
	if !ok || len(els) == 0 || len(els) > max {
		return nil, []string{fmt.Sprintf("%s.elements: %s needs 1..%d elements", at, kind, max)}
	}
	return els, nil
}

func checkContext(at string, b Block) []string {
	els, probs := elements(at, b, "context", maxContextElements)
	for i, e := range els {
		eat := fmt.Sprintf("%s.elements[%d]", at, i)
		el, _ := e.(map[string]any)
		if t, _ := el["type"].(string); t == "image" {
			probs = append(probs, checkImageElement(eat, el)...)
			continue
		}
		probs = append(probs, checkText(eat, e, maxTextObject)...)
	}
	return probs
}

func checkActions(at string, b Block) []string {
	els, probs := elements(at, b, "actions", maxActionElements)
	for i, e := range els {
		el, isObj := e.(map[string]any)
		eat := fmt.Sprintf("%s.elements[%d]", at, i)
		if !isObj {
			probs = append(probs, eat+": must be an object")
			continue
		}
		probs = append(probs, checkElement(eat, el)...)
	}
	return probs
}

func checkImage(at string, b Block) []string {
	probs := checkImageElement(at, b)
	if t, ok := b["title"]; ok {
		probs = append(probs, checkText(at+".title", t, maxAltText, "plain_text")...)
	}
	return probs
}

func checkImageElement(at string, el map[string]any) []string {
	var probs []string
	u, hasURL := el["image_url"].(string)
	_, hasFile := el["slack_file"]
	if (!hasURL || u == "" || runes(u) > maxURL) && !hasFile {
		probs = append(probs, fmt.Sprintf("%s.image_url: need 1..%d characters (or slack_file)", at, maxURL))
	}
	if alt, ok := el["alt_text"].(string); !ok || alt == "" || runes(alt) > maxAltText {
		probs = append(probs, fmt.Sprintf("%s.alt_text: need 1..%d characters", at, maxAltText))
	}
	return probs
}

// checkElement validates the interactive elements superguard may send
// (buttons, images); other element types are accepted as they are.
func checkElement(at string, el map[string]any) []string {
	typ, _ := el["type"].(string)
	switch typ {
	case "button":
		probs := checkText(at+".text", el["text"], maxButtonText, "plain_text")
		if id, ok := el["action_id"]; ok {
			if s, isStr := id.(string); !isStr || s == "" || runes(s) > maxActionID {
				probs = append(probs, fmt.Sprintf("%s.action_id: need 1..%d characters", at, maxActionID))
			}
		}
		if u, ok := el["url"]; ok {
			if s, isStr := u.(string); !isStr || s == "" || runes(s) > maxURL {
				probs = append(probs, fmt.Sprintf("%s.url: need 1..%d characters", at, maxURL))
			}
		}
		if v, ok := el["value"]; ok {
			if s, isStr := v.(string); !isStr || runes(s) > maxButtonValue {
				probs = append(probs, fmt.Sprintf("%s.value: at most %d characters", at, maxButtonValue))
			}
		}
		if st, ok := el["style"]; ok && st != "primary" && st != "danger" {
			probs = append(probs, fmt.Sprintf("%s.style: %v: want primary or danger", at, st))
		}
		return probs
	case "image":
		return checkImageElement(at, el)
	case "":
		return []string{at + ".type: missing"}
	}
	return nil
}

// checkText validates a text composition object of at most max characters,
// optionally restricted to the given types.
func checkText(at string, v any, max int, only ...string) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{at + ": must be a text object"}
	}
	typ, _ := obj["type"].(string)
	if typ != "plain_text" && typ != "mrkdwn" {
		return []string{fmt.Sprintf("%s.type: %q: want plain_text or mrkdwn", at, typ)}
	}
	if len(only) > 0 && typ != only[0] {
		return []string{fmt.Sprintf("%s.type: %q: want %s", at, typ, only[0])}
	}
	var probs []string
	s, isStr := obj["text"].(string)
	switch {
	case !isStr || s == "":
		probs = append(probs, at+".text: must be a non-empty string")
	case runes(s) > max:
		probs = append(probs, fmt.Sprintf("%s.text: %d characters, at most %d allowed", at, runes(s), max))
	}
	if _, ok := obj["emoji"]; ok && typ == "mrkdwn" {
		probs = append(probs, at+".emoji: only plain_text may set emoji")
	}
	return probs
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// blockTexts collects every "text" string inside v, depth first, visiting
// object keys in sorted order so the result is deterministic.
func blockTexts(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, c := range x {
			if _, isStr := c.(string); isStr && k != "text" {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			blockTexts(x[k], out)
		}
	case []any:
		for _, c := range x {
			blockTexts(c, out)
		}
	}
}

// joinBlockText returns every text in blocks, in block order, one per line.
func joinBlockText(blocks []Block) string {
	var out []string
	for _, b := range blocks {
		blockTexts(b, &out)
	}
	return strings.Join(out, "\n")
}
