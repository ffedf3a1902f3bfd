package supervisor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fanoutFake answers stops and starts; it counts requests.
type fanoutFake struct {
	mu          sync.Mutex
	multicalls  int
	singles     int
	noMulticall bool
	down        error // every request fails with it
}

var _ FanoutCaller = (*fanoutFake)(nil)

func (f *fanoutFake) Multicall(_ context.Context, calls []Call) ([]CallResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.multicalls++
	switch {
	case f.down != nil:
		return nil, f.down
	case f.noMulticall:
		return nil, &Fault{Code: FaultUnknownMethod, Name: "UNKNOWN_METHOD"}
	}
	out := make([]CallResult, len(calls))
	for i, c := range calls {
		if c.Params[0] == "g:gone" {
			out[i].Err = &Fault{Code: FaultBadName, Name: "BAD_NAME"}
		}
	}
	return out, nil
}

func (f *fanoutFake) one(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.singles++
	if f.down != nil {
		return f.down
	}
	if name == "g:gone" {
		return &Fault{Code: FaultBadName, Name: "BAD_NAME"}
	}
	return nil
}

func (f *fanoutFake) StopProcess(_ context.Context, name string, _ bool) error  { return f.one(name) }
func (f *fanoutFake) StartProcess(_ context.Context, name string, _ bool) error { return f.one(name) }

func TestFanout(t *testing.T) {
	names := []string{"g:a", "g:b", "g:gone"}
	tests := []struct {
		name                        string
		fake                        *fanoutFake
		multicall                   bool
		wantMulticalls, wantSingles int // after two StopAll calls
		wantDown                    bool
	}{
		{name: "one multicall", fake: &fanoutFake{}, multicall: true, wantMulticalls: 2},
		{name: "one request per name", fake: &fanoutFake{}, wantSingles: 6},
		{name: "no multicall is remembered", fake: &fanoutFake{noMulticall: true}, multicall: true, wantMulticalls: 1, wantSingles: 6},
		{name: "unreachable is every answer", fake: &fanoutFake{down: errors.New("connection refused")}, multicall: true,
			wantMulticalls: 2, wantDown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFanout(tt.fake, time.Second, zerolog.Nop())
			var got map[string]error
			for range 2 {
				got = f.StopAll(context.Background(), names, tt.multicall)
			}
			if tt.fake.multicalls != tt.wantMulticalls || tt.fake.singles != tt.wantSingles {
				t.Errorf("%d multicalls %d requests, want %d and %d", tt.fake.multicalls, tt.fake.singles, tt.wantMulticalls, tt.wantSingles)
			}
			for _, n := range names {
				err := got[n]
				switch {
				case tt.wantDown && err == nil:
					t.Errorf("%s: nil, want the transport error", n)
				case !tt.wantDown && (err != nil) != (n == "g:gone"):
					t.Errorf("%s: %v", n, err)
				}
			}
		})
	}
	if got := NewFanout(&fanoutFake{}, time.Second, zerolog.Nop()).StartAll(context.Background(), nil); got != nil {
		t.Errorf("StartAll(nil) = %v", got)
	}
}
