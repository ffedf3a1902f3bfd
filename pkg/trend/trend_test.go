package trend

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// feed adds f(t) every 5s for d.
func feed(s *Series, d time.Duration, f func(sec float64) float64) time.Time {
	var t time.Time
	for off := time.Duration(0); off <= d; off += 5 * time.Second {
		t = t0.Add(off)
		s.Add(t, f(off.Seconds()))
	}
	return t
}

func TestSteadyLeakThroughSawtooth(t *testing.T) {
	s := New(30 * time.Minute)
	const rate = 1000.0 // bytes per second
	r := rand.New(rand.NewPCG(1, 2))
	feed(s, 40*time.Minute, func(sec float64) float64 {
		// A GC sawtooth of 200 kB, noise, and a rare spike.
		v := 500e6 + rate*sec + math.Mod(sec, 60)/60*200e3 + r.NormFloat64()*20e3
		if int(sec)%600 == 0 {
			v += 50e6
		}
		return v
	})
	f, ok := s.Fit()
	if !ok {
		t.Fatal("no fit after 40 minutes of a 30 minute window")
	}
	if math.Abs(f.Slope-rate)/rate > 0.05 || math.Abs(f.Recent-rate)/rate > 0.1 {
		t.Errorf("slope %.1f recent %.1f; want about %.0f", f.Slope, f.Recent, rate)
	}
	if f.Span > 31*time.Minute || f.Span < 25*time.Minute {
		t.Errorf("span %s: the window is 30m", f.Span)
	}
	level := 500e6 + rate*f.At.Sub(t0).Seconds()
	if math.Abs(f.Level-level) > 1e6 {
		t.Errorf("level %.0f; want about %.0f", f.Level, level)
	}
	// Time to a limit 100 MB above the level: about 100e6/1000 s.
	d, ok := f.TimeTo(f.Level + 100e6)
	if !ok || math.Abs(d.Seconds()-1e5)/1e5 > 0.1 {
		t.Errorf("TimeTo = %s, %v; want about 27.8h", d, ok)
	}
	if d, ok := f.TimeTo(f.Level - 1); !ok || d != 0 {
		t.Errorf("past the limit: %s %v", d, ok)
	}
}

func TestPlateauIsNotALeak(t *testing.T) {
	s := New(30 * time.Minute)
	// Grows for the first 12 minutes of the window, then flat.
	feed(s, 30*time.Minute, func(sec float64) float64 {
		return 100e6 + 5000*min(sec, 720)
	})
	f, ok := s.Fit()
	if !ok {
		t.Fatal("no fit")
	}
	if f.Slope <= 0 {
		t.Errorf("the whole window grew; slope %.1f", f.Slope)
	}
	if f.Rate() > 1 {
		t.Errorf("rate %.1f B/s for a plateau (slope %.1f, recent %.1f)", f.Rate(), f.Slope, f.Recent)
	}
	if _, ok := f.TimeTo(1e12); ok {
		t.Error("a plateau reaches the limit")
	}
}

func TestNotEnoughHistory(t *testing.T) {
	s := New(30 * time.Minute)
	feed(s, 10*time.Minute, func(sec float64) float64 { return sec })
	if _, ok := s.Fit(); ok {
		t.Error("a fit from a third of the window")
	}
	s.Reset()
	if _, ok := s.Fit(); ok {
		t.Error("a fit after Reset")
	}
}

func TestOldPointsLeaveTheWindow(t *testing.T) {
	s := New(10 * time.Minute)
	// Fast growth long ago, then flat for more than a window.
	feed(s, 40*time.Minute, func(sec float64) float64 {
		if sec < 600 {
			return sec * 1e6
		}
		return 600e6
	})
	f, ok := s.Fit()
	if !ok || f.Slope != 0 || f.Rate() != 0 {
		t.Errorf("fit %+v %v: the growth left the window", f, ok)
	}
	if len(s.pts) > Buckets+1 {
		t.Errorf("%d points kept for %d buckets", len(s.pts), Buckets)
	}
}

func TestOutOfOrderAndNaNIgnored(t *testing.T) {
	s := New(10 * time.Minute)
	s.Add(t0.Add(time.Minute), 1)
	s.Add(t0, 100)
	s.Add(t0.Add(2*time.Minute), math.NaN())
	if s.cur.n != 1 {
		t.Errorf("%d samples kept; want 1", s.cur.n)
	}
}

func BenchmarkFit(b *testing.B) {
	s := New(30 * time.Minute)
	feed(s, 30*time.Minute, func(sec float64) float64 { return sec })
	for b.Loop() {
		s.fitted = false
		s.Fit()
	}
}

func TestShortRateBeforeTheWindowFills(t *testing.T) {
	s := New(30 * time.Minute)
	if _, _, ok := s.Short(); ok {
		t.Error("a short rate from no samples")
	}
	// 4 MiB/s for 20 s, one sample a 5 s, with one spike.
	for i := range 5 {
		v := float64(i) * 5 * (4 << 20)
		if i == 2 {
			v += 100 << 20
		}
		s.Add(t0.Add(time.Duration(i)*5*time.Second), v)
	}
	rate, span, ok := s.Short()
	if !ok || math.Abs(rate-4<<20)/(4<<20) > 0.01 || span != 20*time.Second {
		t.Errorf("short rate %.0f over %s (%v); want 4 MiB/s over 20s", rate, span, ok)
	}
	if _, ok := s.Fit(); ok {
		t.Error("the window's fit is ready after 20 s")
	}
	for i := range 3 * Recent {
		s.Add(t0.Add(time.Minute+time.Duration(i)*time.Second), 1)
	}
	if len(s.recent) != Recent {
		t.Errorf("%d recent samples kept", len(s.recent))
	}
	s.Reset()
	if _, _, ok := s.Short(); ok {
		t.Error("a short rate after Reset")
	}
}
