package procstat

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Host is a reading of the machine.
type Host struct {
	MemTotal, MemAvailable int64 // bytes
	// Busy and Total are CPU seconds over all cores since boot (Busy
	// excludes idle and iowait): two readings give the busy share.
	Busy, Total float64
	CPUs        int
	Load1       float64
}

// MemUsed is the used share of memory (MemTotal - MemAvailable).
func (h Host) MemUsed() float64 {
	if h.MemTotal <= 0 {
		return 0
	}
	return float64(h.MemTotal-h.MemAvailable) / float64(h.MemTotal)
}

// BusySince is the share of all cores busy between prev and h (0 to 1);
// false when there is no interval.
func (h Host) BusySince(prev Host) (float64, bool) {
	dt := h.Total - prev.Total
	if prev.Total == 0 || dt <= 0 {
		return 0, false
	}
	return min(max((h.Busy-prev.Busy)/dt, 0), 1), true
}

// Host reads /proc/meminfo, /proc/stat and /proc/loadavg.
func (r *Reader) Host() (Host, error) {
	var h Host
	mi, err := r.fs.Meminfo()
	if err != nil {
		return h, fmt.Errorf("meminfo: %w", err)
	}
	if mi.MemTotal == nil || mi.MemAvailable == nil {
		return h, errors.New("meminfo: no MemTotal or MemAvailable")
	}
	h.MemTotal, h.MemAvailable = int64(*mi.MemTotal)*1024, int64(*mi.MemAvailable)*1024
	st, err := r.fs.Stat()
	if err != nil {
		return h, fmt.Errorf("stat: %w", err)
	}
	c := st.CPUTotal
	h.Total = c.User + c.Nice + c.System + c.Idle + c.Iowait + c.IRQ + c.SoftIRQ + c.Steal
	h.Busy = h.Total - c.Idle - c.Iowait
	h.CPUs = max(len(st.CPU), 1)
	la, err := r.fs.LoadAvg()
	if err != nil {
		return h, fmt.Errorf("loadavg: %w", err)
	}
	h.Load1 = la.Load1
	return h, nil
}

// Disk is the free space of the file system holding a path.
type Disk struct {
	Path        string
	Free, Total int64 // bytes available to an unprivileged user, and the size
}

// FreeShare is the free share of the file system.
func (d Disk) FreeShare() float64 {
	if d.Total <= 0 {
		return 0
	}
	return float64(d.Free) / float64(d.Total)
}

// DiskFree reads the free space of the file system holding path.
func DiskFree(path string) (Disk, error) {
	var s unix.Statfs_t
	if err := unix.Statfs(path, &s); err != nil {
		return Disk{Path: path}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := int64(s.Bsize) //nolint:unconvert // int32 on some platforms
	return Disk{Path: path, Free: int64(s.Bavail) * bs, Total: int64(s.Blocks) * bs}, nil
}
