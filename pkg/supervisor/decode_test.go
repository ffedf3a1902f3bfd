package supervisor

import (
	"slices"
	"testing"
	"time"
)

func TestDecodeProcessInfo(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		want    ProcessState
		wantErr bool
	}{
		{name: "code", v: map[string]any{"state": int64(100), "statename": "EXITED"}, want: ProcessExited},
		{name: "name wins over an unknown code", v: map[string]any{"state": int64(7), "statename": "Running"}, want: ProcessRunning},
		{name: "not a struct", v: "x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeProcessInfo(tt.v)
			if (err != nil) != tt.wantErr || (err == nil && got.State != tt.want) {
				t.Errorf("DecodeProcessInfo = %v, %v; want %v (error %v)", got.State, err, tt.want, tt.wantErr)
			}
		})
	}
	info, err := DecodeProcessInfo(map[string]any{"name": "a", "group": "g", "pid": int64(12), "start": int64(100), "stop": int64(0)})
	if err != nil || info.FullName() != "g:a" || info.PID != 12 || !info.Start.Equal(time.Unix(100, 0)) || !info.Stop.IsZero() {
		t.Errorf("DecodeProcessInfo = %+v, %v", info, err)
	}
}

func TestDecodeTailAndLog(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		want    Tail
		wantErr bool
	}{
		{name: "tail", v: []any{"boom\n", int64(5), true}, want: Tail{Data: "boom\n", Offset: 5, Overflow: true}},
		{name: "empty data arrives as nil", v: []any{nil, int64(0), false}, want: Tail{}},
		{name: "short", v: []any{"x"}, wantErr: true},
		{name: "not an array", v: "x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeTail(tt.v)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("DecodeTail = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	for _, v := range []any{nil, "log"} {
		if s, err := DecodeLog(v); err != nil || (v != nil && s != v) {
			t.Errorf("DecodeLog(%v) = %q, %v", v, s, err)
		}
	}
	if _, err := DecodeLog(int64(1)); err == nil {
		t.Error("DecodeLog(1): want an error")
	}
}

func TestDecodeAllConfigInfo(t *testing.T) {
	got, err := DecodeAllConfigInfo([]any{
		map[string]any{"name": "a", "group": "g", "stopwaitsecs": int64(7)},
		"junk",
		map[string]any{"name": "b", "group": "b"},
	})
	want := []ConfigInfo{{Name: "a", Group: "g", StopWait: 7 * time.Second}, {Name: "b", Group: "b"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("DecodeAllConfigInfo = %+v, %v; want %+v", got, err, want)
	}
	if _, err := DecodeAllConfigInfo("x"); err == nil {
		t.Error("DecodeAllConfigInfo(x): want an error")
	}
}
