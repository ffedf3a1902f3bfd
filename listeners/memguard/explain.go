package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/superguard/superguard/pkg/listener"
	"github.com/superguard/superguard/pkg/procmatch"
	"github.com/superguard/superguard/pkg/supervisor"
)

// explain is -check's account of which limit, CPU and fds guard applies
// to each of supervisord's processes (the most specific entry of each
// list wins).
func explain(s *section, procs []supervisor.ProcessInfo, w io.Writer) {
	tw := listener.Table(w, "PROCESS\tMEMORY LIMIT\tCPU\tFILES")
	lists := s.Lists()
	for _, p := range procs {
		group := p.Group
		if group == "" {
			group = p.Name
		}
		cols := make([]string, 3)
		for i, l := range lists {
			best, rank, _ := procmatch.Best(l.Patterns, group, p.Name)
			if best < 0 {
				cols[i] = "-"
				continue
			}
			at := fmt.Sprintf("%s[%d] by %s", l.Field, best, rank)
			switch l.Field {
			case "limits":
				lim := s.Limits[best]
				cols[i] = fmt.Sprintf("%s %s (warn %s, %d samples, %s) %s", lim.Measure, lim.Max, lim.Warn, lim.For, lim.Policy, at)
			case "cpu":
				c := s.CPU[best]
				cols[i] = fmt.Sprintf("%.2f cores for %s %s", c.Max, c.For, at)
			case "fds":
				cols[i] = fmt.Sprintf("%s of its limit %s", s.FDs[best].Max, at)
			}
		}
		fmt.Fprintf(tw, "%s:%s\t%s\n", group, p.Name, strings.Join(cols, "\t"))
	}
	_ = tw.Flush()
}
