package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
)

// topChildren is how many of the largest descendants an alert names.
const topChildren = 3

// evidence is what an alert about w shows: the measures, the limit, the
// trend, the uptime and the largest children. Called with e.mu held.
func (e *engine) evidence(w *watched, now time.Time) map[string]string {
	d := map[string]string{"pid": strconv.Itoa(w.pid)}
	if !w.since.IsZero() {
		d["uptime"] = roundDur(now.Sub(w.since))
	}
	if w.limit >= 0 {
		lim := e.cfg.Limits[w.limit]
		d["measure"] = w.measure
		d["size"] = config.Size(w.value).String()
		d["limit"] = lim.Max.String()
		d["warn_at"] = lim.Warn.String()
		d["limit_rule"] = fmt.Sprintf("listeners.memguard.limits[%d] (%s)", w.limit, strings.Join(lim.Processes, ", "))
		d["policy"] = lim.Policy
		if w.fitOK {
			d["growth"] = config.Size(w.fit.Rate()*3600).String() + "/h"
			if w.toLimit > 0 {
				d["time_to_limit"] = roundDur(w.toLimit)
			}
		} else if rate, span, ok := w.series.Short(); ok {
			// The window's fit is not ready (a fast leak): the latest
			// samples' growth, saying so.
			d["growth"] = fmt.Sprintf("%s/h (over the last %s)", growth(rate), roundDur(span))
			if rate > 0 && w.value < int64(lim.Max) {
				d["time_to_limit"] = roundDur(time.Duration(float64(int64(lim.Max)-w.value) / rate * float64(time.Second)))
			}
		}
	}
	if rd := w.last; rd != nil {
		d["rss"] = config.Size(rd.RSS).String()
		d["threads"] = strconv.Itoa(rd.Threads)
		if len(rd.Children) > 0 {
			d["tree_rss"] = config.Size(rd.TreeRSS).String()
			d["children"] = strconv.Itoa(len(rd.Children))
			var top []string
			for _, c := range rd.Children[:min(topChildren, len(rd.Children))] {
				top = append(top, fmt.Sprintf("%d %s %s", c.PID, c.Comm, config.Size(c.RSS)))
			}
			d["top_children"] = strings.Join(top, "; ")
		}
		if rd.Cgroup >= 0 {
			d["cgroup"] = config.Size(rd.Cgroup).String() + " (" + rd.CgroupPath + ")"
		}
	}
	if w.cpu >= 0 && !w.cpuAt.IsZero() {
		d["cpu_cores"] = strconv.FormatFloat(w.cores, 'f', 2, 64)
	}
	if w.fds >= 0 && w.fdShare >= 0 && w.last != nil {
		d["open_files"] = fmt.Sprintf("%d of %d", w.last.FDs, w.last.FDLimit)
	}
	if w.note != "" {
		d["note"] = w.note
	}
	return d
}

// newAlert is an alert about w, scrubbed of secrets. Called with e.mu held
// or not: it only reads fields set under the round's lock before.
func (e *engine) newAlert(w *watched, kind alert.Kind, c alert.Condition, sev alert.Severity, summary, action string, details map[string]string) *alert.Alert {
	w.seq++
	d := make(map[string]string, len(details))
	for k, v := range details {
		d[k] = e.redact(v)
	}
	return &alert.Alert{
		Key: alert.Key(e.host, w.name, c), Kind: kind, Host: e.host, Group: w.group, Program: w.proc,
		Condition: c, Severity: sev, Summary: e.redact(summary), Details: d, Action: e.redact(action),
		Listener: listenerName, Time: e.now(),
		SourceID: fmt.Sprintf("%s/%s/%d/%d/%d", listenerName, w.name, w.pid, w.start, w.seq),
	}
}

// outbox collects a round's alerts, sent once the lock is released.
type outbox struct{ alerts []*alert.Alert }

func (o *outbox) add(a *alert.Alert) { o.alerts = append(o.alerts, a) }

// send commits the alerts to the durable outbox; one that cannot be
// committed is logged whole.
func (o *outbox) send(e *engine) {
	for _, a := range o.alerts {
		if err := e.alerts.Submit(context.WithoutCancel(e.bg), a); err != nil {
			e.log.Error().Err(err).Str("key", a.Key).Str("summary", a.Summary).Str("action", a.Action).
				Msg("alert not committed: it is in this log only")
		}
	}
	o.alerts = nil
}

// growth is a rate per second as a size per hour, signed.
func growth(perSec float64) string {
	if perSec < 0 {
		return "-" + config.Size(-perSec*3600).String()
	}
	return config.Size(perSec * 3600).String()
}
