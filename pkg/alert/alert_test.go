package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSeverity(t *testing.T) {
	tests := []struct {
		in      string
		want    Severity
		lower   Severity
		wantErr bool
	}{
		{in: "info", want: Info, lower: Info},
		{in: "Warning", want: Warning, lower: Info},
		{in: "ERROR", want: Error, lower: Warning},
		{in: "critical", want: Critical, lower: Critical},
		{in: "fatal", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSeverity(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseSeverity(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got != tc.want || got.Lower() != tc.lower {
				t.Errorf("ParseSeverity(%q) = %v (lower %v), want %v (lower %v)", tc.in, got, got.Lower(), tc.want, tc.lower)
			}
			b, err := json.Marshal(got)
			if err != nil || string(b) != `"`+strings.ToLower(tc.in)+`"` {
				t.Errorf("json = %s, %v", b, err)
			}
			var back Severity
			if err := json.Unmarshal(b, &back); err != nil || back != got {
				t.Errorf("round trip = %v, %v", back, err)
			}
		})
	}
	if s := Severity(9).String(); s != "severity(9)" {
		t.Errorf("out of range String = %q", s)
	}
}

func TestKeyAndProcess(t *testing.T) {
	tests := []struct {
		name           string
		group, program string
		process, key   string
	}{
		{"grouped", "trading", "engine", "trading:engine", "h1/trading:engine/fatal"},
		{"ungrouped", "", "feed", "feed:feed", "h1/feed:feed/fatal"},
		{"host-wide", "", "", "", "h1/-/fatal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Alert{Group: tc.group, Program: tc.program}
			if got := a.Process(); got != tc.process {
				t.Errorf("Process() = %q, want %q", got, tc.process)
			}
			if got := Key("h1", a.Process(), CondFatal); got != tc.key {
				t.Errorf("Key = %q, want %q", got, tc.key)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Alert{Key: "h1/g:p/exited", Kind: Trigger, Condition: CondExited, Severity: Warning, Summary: "p exited"}
	tests := []struct {
		name    string
		edit    func(*Alert)
		wantErr string
	}{
		{"valid", func(*Alert) {}, ""},
		{"no key", func(a *Alert) { a.Key = "" }, "empty key"},
		{"bad kind", func(a *Alert) { a.Kind = "page" }, `kind "page"`},
		{"unknown condition", func(a *Alert) { a.Condition = "disc" }, `unknown condition "disc"`},
		{"bad severity", func(a *Alert) { a.Severity = 7 }, "bad severity 7"},
		{"no summary", func(a *Alert) { a.Summary = "" }, "empty summary"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := ok
			tc.edit(&a)
			err := a.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestIsRetryable(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		name  string
		err   error
		retry bool
		after time.Duration
	}{
		{"nil", nil, false, 0},
		{"unclassified", cause, true, 0},
		{"retry", Retry(cause, 3*time.Second), true, 3 * time.Second},
		{"permanent", Permanent(cause), false, 0},
		{"wrapped permanent", fmt.Errorf("sink: %w", Permanent(cause)), false, 0},
		{"deadline", context.DeadlineExceeded, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			retry, after := IsRetryable(tc.err)
			if retry != tc.retry || after != tc.after {
				t.Errorf("IsRetryable = %v, %v; want %v, %v", retry, after, tc.retry, tc.after)
			}
		})
	}
	if err := Retry(cause, time.Second); !errors.Is(err, cause) || err.Error() != "retryable (retry after 1s): boom" {
		t.Errorf("Retry error = %q, unwraps to cause: %v", err, errors.Is(err, cause))
	}
	if err := Permanent(cause); err.Error() != "permanent: boom" {
		t.Errorf("Permanent error = %q", err)
	}
}

func TestRedactKeepsURLError(t *testing.T) {
	const hook = "https://hooks.example/services/T0/B0/CANARY"
	cause := &url.Error{Op: "Post", URL: hook, Err: context.DeadlineExceeded}
	// As a sink does: redact the cause, then classify it.
	red := Retry(RedactError(fmt.Errorf("slack post: %w", cause), hook, "/services/T0/B0/CANARY"), 0)
	var ue *url.Error
	if !errors.As(red, &ue) {
		t.Fatalf("errors.As(%q, *url.Error) = false", red)
	}
	var de *DeliveryError
	if !errors.As(red, &de) || !de.Retryable {
		t.Errorf("errors.As(%q, *DeliveryError) lost the classification", red)
	}
	if !errors.Is(red, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%q, context.DeadlineExceeded) = false", red)
	}
	for name, text := range map[string]string{"error": red.Error(), "url.Error": ue.Error(), "delivery error": de.Error()} {
		if strings.Contains(text, "CANARY") {
			t.Errorf("%s text reveals the secret: %q", name, text)
		}
	}
}

func TestRedact(t *testing.T) {
	const secret = "xoxb-CANARY"
	err := fmt.Errorf("post https://slack/%s: %w", secret, context.Canceled)
	red := RedactError(err, "", secret)
	if strings.Contains(red.Error(), secret) || !strings.Contains(red.Error(), "[REDACTED]") {
		t.Errorf("RedactError = %q", red)
	}
	if !errors.Is(red, context.Canceled) {
		t.Errorf("RedactError lost the chain: errors.Is(%q, context.Canceled) = false", red)
	}
	if clean := errors.New("no secret here"); RedactError(clean, secret) != clean {
		t.Error("RedactError replaced an error that carried no secret")
	}
	if RedactError(nil, secret) != nil {
		t.Error("RedactError(nil) != nil")
	}
	if got := Redact("a-b-a", "a", ""); got != "[REDACTED]-b-[REDACTED]" {
		t.Errorf("Redact = %q", got)
	}
}
