// Package trend fits the growth of a measure over a sliding window with a
// robust estimator, for leak detection: the Theil–Sen slope (the median
// of the slopes between every pair of points), which a garbage
// collector's sawtooth, a single spike or a few outliers (up to 29% of
// the points) do not move, where a least-squares fit or two points would.
//
// Samples are folded into at most Buckets buckets across the window (each
// keeps its mean), so that a fit costs the same whatever the sampling
// period, and the fit is recomputed only when a bucket closes.
//
// A process that grows and then plateaus must not be called leaking: Fit
// also fits the recent half of the window alone, and Rate is the smaller
// of the two slopes. A steady leak has both equal; a plateau has a recent
// slope near zero.
package trend

import (
	"math"
	"slices"
	"time"
)

// Buckets is how many buckets a window holds.
const Buckets = 48

// MinBuckets is how many closed buckets a fit needs, spanning at least half
// the window.
const MinBuckets = 8

// Series is one measure's recent history. The zero Series is not usable:
// use New.
type Series struct {
	window, width time.Duration
	pts           []point // closed buckets, oldest first
	cur           bucket
	fit           Fit
	fitted        bool
	recent        []point // the last Recent samples as they came
}

// Recent is how many of the latest samples Short fits.
const Recent = 12

type point struct {
	t time.Time
	v float64
}

type bucket struct {
	start time.Time
	sum   float64
	n     int
	last  time.Time
}

// New returns a Series over window.
func New(window time.Duration) *Series {
	return &Series{window: window, width: max(window/Buckets, time.Second)}
}

// Window is the series' window.
func (s *Series) Window() time.Duration { return s.window }

// Add records v at t. Samples must come in time order; an earlier one is
// ignored.
func (s *Series) Add(t time.Time, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if s.cur.n > 0 && t.Before(s.cur.last) {
		return
	}
	if s.cur.n > 0 && t.Sub(s.cur.start) >= s.width {
		s.close()
	}
	if s.cur.n == 0 {
		s.cur.start = t
	}
	s.cur.sum += v
	s.cur.n++
	s.cur.last = t
	if len(s.recent) == Recent {
		s.recent = append(s.recent[:0], s.recent[1:]...)
	}
	s.recent = append(s.recent, point{t: t, v: v})
}

// Short is the Theil–Sen slope (per second) of the last Recent samples
// and the time they span: the growth to show while the window's fit is
// not ready (a fast leak is over its limit long before). False with fewer
// than 3 samples.
func (s *Series) Short() (slope float64, span time.Duration, ok bool) {
	if len(s.recent) < 3 {
		return 0, 0, false
	}
	slope, _ = theilSen(s.recent)
	return slope, s.recent[len(s.recent)-1].t.Sub(s.recent[0].t), true
}

// close ends the current bucket: its mean at its middle time.
func (s *Series) close() {
	mid := s.cur.start.Add(s.cur.last.Sub(s.cur.start) / 2)
	s.pts = append(s.pts, point{t: mid, v: s.cur.sum / float64(s.cur.n)})
	s.cur = bucket{}
	cut := 0
	for cut < len(s.pts) && mid.Sub(s.pts[cut].t) > s.window {
		cut++
	}
	s.pts = s.pts[cut:]
	s.fitted = false
}

// Reset forgets the history (a restarted process starts a new one).
func (s *Series) Reset() {
	s.pts, s.cur, s.fitted, s.recent = s.pts[:0], bucket{}, false, s.recent[:0]
}

// Fit is the fitted trend.
type Fit struct {
	// Slope is the Theil–Sen slope over the window, Recent over its
	// latest half, both per second.
	Slope, Recent float64
	// Level is the fitted value at At, the last closed bucket's time.
	Level float64
	At    time.Time
	// Span is the time the fitted points cover, N their number.
	Span time.Duration
	N    int
}

// Rate is the growth per second a leak warning trusts: the smaller of the
// two slopes (a plateau's recent slope is near zero).
func (f Fit) Rate() float64 { return min(f.Slope, f.Recent) }

// TimeTo is when the trend reaches limit from the level at f.At: false
// when the rate is not positive. A level already past the limit is 0.
func (f Fit) TimeTo(limit float64) (time.Duration, bool) {
	r := f.Rate()
	if r <= 0 {
		return 0, false
	}
	if f.Level >= limit {
		return 0, true
	}
	secs := (limit - f.Level) / r
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// Fit returns the trend over the window; false until MinBuckets buckets
// spanning half the window are in.
func (s *Series) Fit() (Fit, bool) {
	if len(s.pts) < MinBuckets || s.pts[len(s.pts)-1].t.Sub(s.pts[0].t) < s.window/2 {
		return Fit{}, false
	}
	if s.fitted {
		return s.fit, true
	}
	slope, level := theilSen(s.pts)
	last := s.pts[len(s.pts)-1].t
	half := len(s.pts) / 2
	recent, _ := theilSen(s.pts[half:])
	s.fit = Fit{Slope: slope, Recent: recent, Level: level, At: last, Span: last.Sub(s.pts[0].t), N: len(s.pts)}
	s.fitted = true
	return s.fit, true
}

// theilSen returns the median pairwise slope (per second) and the fitted
// value at the last point (intercept: the median of v - slope*t).
func theilSen(pts []point) (slope, level float64) {
	if len(pts) < 2 {
		return 0, 0
	}
	t0 := pts[0].t
	slopes := make([]float64, 0, len(pts)*(len(pts)-1)/2)
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			dt := pts[j].t.Sub(pts[i].t).Seconds()
			if dt > 0 {
				slopes = append(slopes, (pts[j].v-pts[i].v)/dt)
			}
		}
	}
	slope = median(slopes)
	icpt := make([]float64, len(pts))
	for i, p := range pts {
		icpt[i] = p.v - slope*p.t.Sub(t0).Seconds()
	}
	return slope, median(icpt) + slope*pts[len(pts)-1].t.Sub(t0).Seconds()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
