package eventlistener

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultInstance identifies the supervisord that runs this listener: its
// PID (our parent: supervisord starts listeners directly, without a shell),
// the parent's start time in clock ticks since boot, and the kernel's boot
// id. The three together change whenever supervisord restarts, even when a
// PID is reused. Where /proc is not available it falls back to the PID alone.
func DefaultInstance() string {
	return instanceOf(os.Getppid(), "/proc")
}

func instanceOf(ppid int, proc string) string {
	id := "ppid:" + strconv.Itoa(ppid)
	start, err := processStartTime(proc, ppid)
	if err != nil {
		return id
	}
	id += " start:" + start
	if boot, err := os.ReadFile(proc + "/sys/kernel/random/boot_id"); err == nil {
		id += " boot:" + strings.TrimSpace(string(boot))
	}
	return id
}

// processStartTime returns field 22 (starttime) of /proc/PID/stat. The
// command name (field 2) is in parentheses and may hold spaces or
// parentheses itself, so fields are counted after its LAST ')'.
func processStartTime(proc string, pid int) (string, error) {
	b, err := os.ReadFile(proc + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", fmt.Errorf("%s/%d/stat: no command name", proc, pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return "", fmt.Errorf("%s/%d/stat: %d fields", proc, pid, len(fields)+2)
	}
	return fields[19], nil
}
