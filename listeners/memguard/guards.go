package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/superguard/superguard/listeners/internal/sections"
	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/governor"
	"github.com/superguard/superguard/pkg/procstat"
)

// resolveBelow is the share of a threshold a measure must fall below to
// resolve its incident: one that hovers at the threshold does not open
// and close an incident every sample.
const resolveBelow = 0.95

// evaluate applies one reading to w: the memory ladder, the leak trend,
// CPU and file descriptors. Alerts go to out; an action due starts on its
// own goroutine. Called with e.mu held.
func (e *engine) evaluate(w *watched, rd *procstat.Reading, now time.Time, out *outbox) {
	if w.start != 0 && rd.Start != w.start {
		// The pid was reused by another process: a new incarnation.
		w.reset()
	}
	w.start, w.last, w.note = rd.Start, rd, ""
	if w.limit >= 0 {
		e.evaluateMemory(w, rd, now, out)
	}
	if w.cpu >= 0 {
		e.evaluateCPU(w, rd, now, out)
	}
	if w.fds >= 0 {
		e.evaluateFDs(w, rd, out)
	}
}

// measureOf returns the value of the configured measure, or of the one
// that stands in for it with a note (PSS not readable: RSS; no cgroup of
// its own: the tree's RSS).
func measureOf(rd *procstat.Reading, measure string) (int64, string, string) {
	switch measure {
	case sections.MeasureRSS:
		return rd.RSS, measure, ""
	case sections.MeasurePSS:
		if rd.PSS >= 0 {
			return rd.PSS, measure, ""
		}
		return rd.RSS, sections.MeasureRSS, "PSS not readable (smaps_rollup needs memguard to run as the process's user or root): RSS used"
	case sections.MeasureTreePSS:
		if rd.TreePSS >= 0 {
			return rd.TreePSS, measure, ""
		}
		return rd.TreeRSS, sections.MeasureTreeRSS, "PSS not readable (smaps_rollup needs memguard to run as the process's user or root): tree RSS used"
	case sections.MeasureCgroup:
		if rd.Cgroup >= 0 {
			return rd.Cgroup, measure, ""
		}
		return rd.TreeRSS, sections.MeasureTreeRSS, rd.CgroupNote + ": tree RSS used"
	default:
		return rd.TreeRSS, sections.MeasureTreeRSS, ""
	}
}

// evaluateMemory is the ladder: a warning above warn, an action after
// `for` consecutive samples above max, and the leak warning from the
// trend. Called with e.mu held.
func (e *engine) evaluateMemory(w *watched, rd *procstat.Reading, now time.Time, out *outbox) {
	lim := e.cfg.Limits[w.limit]
	v, measure, note := measureOf(rd, lim.Measure)
	w.value, w.measure = v, measure
	if note != "" {
		w.note = note
	}
	w.series.Add(now, float64(v))
	if v > int64(lim.Max) {
		w.over++
	} else {
		w.over = 0
	}
	e.evaluateLeak(w, lim, now, out)
	switch {
	case w.acting:
		return
	case w.over >= lim.For && e.actionDue(w, now):
		w.acting = true
		ev := e.evidence(w, now)
		e.wg.Go(func() { e.act(w, ev) })
		return
	case v > int64(lim.Max):
		if w.state == StateOK || w.state == StateWarning {
			w.state = StateOver
		}
	case v > int64(lim.Warn):
		w.state = StateWarning
	default:
		if w.state != StatePaused || w.over == 0 {
			w.state = StateOK
		}
	}
	if v > int64(lim.Warn) && !w.warnOpen && !w.overOpen {
		w.warnOpen = true
		out.add(e.newAlert(w, alert.Trigger, alert.CondMemory, alert.Warning,
			fmt.Sprintf("memory %s: %s of %s above the warning step %s", w.name, config.Size(v), measure, lim.Warn),
			fmt.Sprintf("none yet: restarts after %d samples above %s", lim.For, lim.Max), e.evidence(w, now)))
	}
	if float64(v) <= float64(lim.Warn)*resolveBelow && (w.warnOpen || w.overOpen) {
		w.warnOpen, w.overOpen = false, false
		out.add(e.newAlert(w, alert.Resolve, alert.CondMemory, alert.Warning,
			fmt.Sprintf("memory %s back under the warning step: %s of %s", w.name, config.Size(v), measure), "", e.evidence(w, now)))
		if w.budgetOpen {
			w.budgetOpen = false
			out.add(e.newAlert(w, alert.Resolve, alert.CondBudget, alert.Critical, "memory "+w.name+" back under its limit", "", nil))
		}
	}
}

// evaluateLeak fits the trend and warns when it reaches the limit within
// the horizon. Called with e.mu held.
func (e *engine) evaluateLeak(w *watched, lim sections.MemLimit, now time.Time, out *outbox) {
	if lim.Leak.Off {
		return
	}
	w.fit, w.fitOK = w.series.Fit()
	w.toLimit = 0
	heading := false
	if w.fitOK && w.fit.Rate()*3600 >= float64(lim.Leak.MinRate) {
		var d time.Duration
		if d, heading = w.fit.TimeTo(float64(lim.Max)); heading {
			// From the fit's time to now.
			w.toLimit = max(d-now.Sub(w.fit.At), 0)
		}
	}
	switch {
	case heading && w.toLimit <= lim.Leak.Horizon && w.value <= int64(lim.Max) && !w.leakOpen:
		w.leakOpen = true
		at := now.Add(w.toLimit)
		out.add(e.newAlert(w, alert.Trigger, alert.CondLeak, alert.Warning,
			fmt.Sprintf("memory leak %s: %s growing %s/h, reaches its limit %s at %s (in %s)", w.name, measureName(w.measure),
				config.Size(w.fit.Rate()*3600), lim.Max, at.Format("15:04 MST"), roundDur(w.toLimit)),
			"none yet: "+ladder(lim), e.evidence(w, now)))
	case w.leakOpen && (!w.fitOK || !heading || w.toLimit > 2*lim.Leak.Horizon):
		w.leakOpen = false
		why := "no longer growing towards its limit"
		if !w.fitOK {
			why = "restarted: its trend starts over"
		}
		out.add(e.newAlert(w, alert.Resolve, alert.CondLeak, alert.Warning, "memory leak "+w.name+": "+why, "", e.evidence(w, now)))
	}
}

// evaluateCPU warns about a tree busy above the guard's cores for longer
// than its duration. Called with e.mu held.
func (e *engine) evaluateCPU(w *watched, rd *procstat.Reading, now time.Time, out *outbox) {
	g := e.cfg.CPU[w.cpu]
	prevAt, prev := w.cpuAt, w.cpuTotal
	w.cpuAt, w.cpuTotal = now, rd.TreeCPU
	dt := now.Sub(prevAt).Seconds()
	if prevAt.IsZero() || dt <= 0 || rd.TreeCPU < prev {
		// The first sample, or a child exited with its CPU time: no
		// interval to measure this round.
		return
	}
	w.cores = (rd.TreeCPU - prev) / dt
	if w.cores <= g.Max {
		w.busyFrom = time.Time{}
		if w.cpuOpen {
			w.cpuOpen = false
			out.add(e.newAlert(w, alert.Resolve, alert.CondCPU, alert.Warning,
				fmt.Sprintf("cpu %s back to %.2f cores (max %.2f)", w.name, w.cores, g.Max), "", e.evidence(w, now)))
		}
		return
	}
	if w.busyFrom.IsZero() {
		w.busyFrom = prevAt
	}
	if busy := now.Sub(w.busyFrom); busy >= g.For && !w.cpuOpen {
		w.cpuOpen = true
		out.add(e.newAlert(w, alert.Trigger, alert.CondCPU, alert.Warning,
			fmt.Sprintf("cpu %s: %.2f cores for %s (max %.2f for %s): a busy loop?", w.name, w.cores, roundDur(busy), g.Max, g.For),
			"none: a warning (memguard does not restart for CPU)", e.evidence(w, now)))
	}
}

// evaluateFDs warns about a process holding more than the guard's share
// of its own open-files limit. Called with e.mu held.
func (e *engine) evaluateFDs(w *watched, rd *procstat.Reading, out *outbox) {
	g := e.cfg.FDs[w.fds]
	w.fdShare = rd.FDShare()
	if w.fdShare < 0 {
		if w.note == "" {
			w.note = "open files not readable (/proc/PID/fd needs memguard to run as the process's user or root)"
		}
		return
	}
	switch {
	case w.fdShare > float64(g.Max) && !w.fdOpen:
		w.fdOpen = true
		out.add(e.newAlert(w, alert.Trigger, alert.CondFDs, alert.Warning,
			fmt.Sprintf("file descriptors %s: %d of %d open files (%.0f%%, warning above %s)", w.name, rd.FDs, rd.FDLimit, w.fdShare*100, g.Max),
			"none: a warning (a feed handler that cannot open a socket cannot reconnect)", e.evidence(w, e.now())))
	case w.fdShare <= float64(g.Max)*resolveBelow && w.fdOpen:
		w.fdOpen = false
		out.add(e.newAlert(w, alert.Resolve, alert.CondFDs, alert.Warning,
			fmt.Sprintf("file descriptors %s back to %d of %d", w.name, rd.FDs, rd.FDLimit), "", e.evidence(w, e.now())))
	}
}

// actionDue reports whether w's over-limit action may start now: not
// while a restart waits for its back-off or a spent budget's window.
// Called with e.mu held.
func (e *engine) actionDue(w *watched, now time.Time) bool {
	switch w.state {
	case StateBackoff, StateSpent:
		return !w.budget.Until.IsZero() && !now.Before(w.budget.Until)
	case StateAlerted:
		return false // policy alert: once per incident
	}
	return true
}

// resolveAll closes w's open incidents. Called with e.mu held.
func (e *engine) resolveAll(w *watched, out *outbox, why string) {
	mem := w.warnOpen || w.overOpen
	w.warnOpen, w.overOpen = false, false
	for _, c := range []struct {
		open *bool
		cond alert.Condition
	}{{&mem, alert.CondMemory}, {&w.leakOpen, alert.CondLeak}, {&w.cpuOpen, alert.CondCPU},
		{&w.fdOpen, alert.CondFDs}, {&w.budgetOpen, alert.CondBudget}} {
		if *c.open {
			*c.open = false
			out.add(e.newAlert(w, alert.Resolve, c.cond, alert.Warning, string(c.cond)+" "+w.name+": "+why, "", nil))
		}
	}
}

// ladder says what comes next for a limit.
func ladder(lim sections.MemLimit) string {
	if lim.Policy == sections.PolicyAlert {
		return fmt.Sprintf("alerts after %d samples above %s (policy alert: no restart)", lim.For, lim.Max)
	}
	return fmt.Sprintf("restarts after %d samples above %s", lim.For, lim.Max)
}

// measureName is a measure for people.
func measureName(m string) string {
	return strings.ReplaceAll(strings.ToUpper(m), "TREE_", "tree ")
}

// roundDur rounds a duration for people: minutes above an hour, seconds
// below.
func roundDur(d time.Duration) string {
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

// budgetText is the budget for the evidence.
func budgetText(d governor.Decision) string {
	if d.Max == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d", d.Left(), d.Max)
}
