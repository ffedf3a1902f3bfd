package main

import "testing"

func TestParseHaltCommand(t *testing.T) {
	tests := []struct {
		data    string
		want    HaltCommand
		wantErr bool
	}{
		{data: `{"reason":"limits breached","by":"healthprobe"}`, want: HaltCommand{Reason: "limits breached", By: "healthprobe"}},
		{data: ``, want: HaltCommand{Reason: "remote halt request", By: "unknown"}},
		{data: `{"reason":"x"}`, want: HaltCommand{Reason: "x", By: "unknown"}},
		{data: `halt now`, want: HaltCommand{Reason: `remote halt request (unreadable data "halt now")`, By: "unknown"}, wantErr: true},
		{data: `{"reason":"x","by":"y","extra":1}`, wantErr: true,
			want: HaltCommand{Reason: `remote halt request (unreadable data "{\"reason\":\"x\",\"by\":\"y\",\"extra\":1}")`, By: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			got, err := ParseHaltCommand(tt.data)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v (a halt request is never lost)", got, tt.want)
			}
		})
	}
}

func TestParseResumeCommand(t *testing.T) {
	tests := []struct {
		data    string
		want    ResumeCommand
		wantErr string
	}{
		{data: `{"by":"ops","start":true}`, want: ResumeCommand{By: "ops", Start: true}},
		{data: `{"by":"ops","start":true,"force":true}`, want: ResumeCommand{By: "ops", Start: true, Force: true}},
		{data: `{"start":true}`, wantErr: `superguard.resume: "by" is required`},
		{data: `resume`, wantErr: `decode "resume": invalid character 'r' looking for beginning of value`},
		{data: `{"by":"a"} {}`, wantErr: `decode "{\"by\":\"a\"} {}": trailing data`},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			got, err := ParseResumeCommand(tt.data)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
