package backoff

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	tests := []struct {
		name     string
		min, max time.Duration
		want     []time.Duration
	}{
		{name: "doubles up to max", min: 50 * time.Millisecond, max: 300 * time.Millisecond,
			want: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}},
		{name: "min equals max", min: time.Second, max: time.Second, want: []time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.min, tt.max, 0)
			var got []time.Duration
			for range tt.want {
				got = append(got, b.Next())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("waits %v, want %v", got, tt.want)
			}
			b.Reset()
			if d := b.Next(); d != tt.min {
				t.Errorf("after Reset: %v, want %v", d, tt.min)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	b := New(100*time.Millisecond, time.Second, 0.5)
	for range 100 {
		b.Reset()
		if d := b.Next(); d < 100*time.Millisecond || d > 150*time.Millisecond {
			t.Fatalf("wait %v outside [100ms, 150ms]", d)
		}
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep(1ms) = false, want true: the wait passed")
	}
	if !Sleep(context.Background(), 0) {
		t.Error("Sleep(0) = false, want true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep on an ended context = true, want false")
	}
	if Sleep(ctx, 0) {
		t.Error("Sleep(0) on an ended context = true, want false")
	}
}
