package route

import (
	"time"

	"github.com/superguard/superguard/pkg/alert"
	"github.com/superguard/superguard/pkg/config"
	"github.com/superguard/superguard/pkg/session"
)

// Quiet reports whether t falls in the quiet hours of c: one of its
// windows, or one of its sessions by timeline tl (the session of
// c.QuietHours.Exchange). A session that cannot be known (tl nil or past
// its horizon) is not quiet: alerts keep their severity.
func Quiet(c *config.Config, t time.Time, tl *session.Timeline) bool {
	q := c.QuietHours
	if q == nil || q.Location() == nil {
		return false
	}
	local := t.In(q.Location())
	for _, w := range q.Windows {
		if w.Contains(local) {
			return true
		}
	}
	if len(q.Session) > 0 {
		in, known := session.Window{Sessions: q.Session}.In(tl, t)
		return in && known
	}
	return false
}

// Covers reports whether maintenance window m applies to alert a at t.
func Covers(m *config.Maintenance, a *alert.Alert, t time.Time) bool {
	if m.Recurring() {
		if m.Location() == nil || !m.Window().Contains(t.In(m.Location())) {
			return false
		}
	} else if t.Before(m.From) || !t.Before(m.Until) {
		return false
	}
	sel := m.Selectors()
	return len(sel) == 0 || selects(sel, a)
}

// InMaintenance returns the first maintenance window of c covering a at t.
func InMaintenance(c *config.Config, a *alert.Alert, t time.Time) (*config.Maintenance, bool) {
	for i := range c.Maintenance {
		if Covers(&c.Maintenance[i], a, t) {
			return &c.Maintenance[i], true
		}
	}
	return nil, false
}
