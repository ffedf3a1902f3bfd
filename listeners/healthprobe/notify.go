package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
	"github.com/rs/zerolog"
)

// notifier serves systemd's notification protocol (sd_notify) to the
// programs of notify heartbeat checks: one unix datagram socket per
// process, dir/GROUP:NAME.sock, given to the program as
// environment=NOTIFY_SOCKET="DIR/%(group_name)s:%(process_name)s.sock".
// WATCHDOG=1 is a heartbeat, READY=1 ends the start-up grace,
// WATCHDOG_USEC=N sets the process's TTL, WATCHDOG=trigger asks for a
// restart, STATUS= is kept for the evidence. A datagram is accepted only
// from the process or one of its descendants (SO_PASSCRED), so another
// user cannot keep a hung strategy alive with forged heartbeats.
type notifier struct {
	dir string
	log zerolog.Logger
	e   *engine

	mu    sync.Mutex
	socks map[string]*net.UnixConn // by group:name
}

// maxNotify is the largest datagram read (systemd's limit is the same
// order: a few KiB of assignments).
const maxNotify = 4096

// SocketPath is the notify socket of group:name under dir.
func SocketPath(dir, full string) string { return filepath.Join(dir, full+".sock") }

func newNotifier(dir string, e *engine, log zerolog.Logger) (*notifier, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("notify_dir: %w", err)
	}
	return &notifier{dir: dir, e: e, log: log, socks: map[string]*net.UnixConn{}}, nil
}

// sync opens a socket for every process in want and closes the others.
func (n *notifier) sync(want []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	keep := map[string]bool{}
	for _, full := range want {
		keep[full] = true
		if n.socks[full] != nil {
			continue
		}
		c, err := n.listen(full)
		if err != nil {
			n.log.Error().Err(err).Str("process", full).Msg("notify socket not opened: its heartbeats cannot arrive")
			continue
		}
		n.socks[full] = c
		go n.serve(full, c)
	}
	for full, c := range n.socks {
		if !keep[full] {
			_ = c.Close()
			_ = os.Remove(SocketPath(n.dir, full))
			delete(n.socks, full)
		}
	}
}

func (n *notifier) listen(full string) (*net.UnixConn, error) {
	path := SocketPath(n.dir, full)
	if len(path) >= 108 {
		return nil, fmt.Errorf("socket path %s: longer than a unix socket path may be (107 bytes)", path)
	}
	_ = os.Remove(path) // a socket left by an earlier healthprobe
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	// Strategies run as another user: anyone may send, and the sender's
	// credentials decide what is accepted.
	if err := os.Chmod(path, 0o666); err != nil {
		_ = c.Close()
		return nil, err
	}
	raw, err := c.SyscallConn()
	if err == nil {
		var serr error
		err = raw.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1) })
		if err == nil {
			err = serr
		}
	}
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("SO_PASSCRED: %w", err)
	}
	return c, nil
}

// close closes every socket and removes the files.
func (n *notifier) close() {
	n.sync(nil)
}

func (n *notifier) serve(full string, c *net.UnixConn) {
	buf := make([]byte, maxNotify)
	oob := make([]byte, syscall.CmsgSpace(syscall.SizeofUcred))
	for {
		nb, noob, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			return // closed
		}
		pid, ok := senderPID(oob[:noob])
		if !ok {
			n.log.Warn().Str("process", full).Msg("notify message without credentials: ignored")
			continue
		}
		n.handle(full, pid, buf[:nb], time.Now())
	}
}

// senderPID reads the sender's pid from SCM_CREDENTIALS.
func senderPID(oob []byte) (int, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if cred, err := syscall.ParseUnixCredentials(&m); err == nil {
			return int(cred.Pid), true
		}
	}
	return 0, false
}

// handle applies one datagram from pid to process full.
func (n *notifier) handle(full string, pid int, msg []byte, at time.Time) {
	b := n.e.beatOf(full)
	// (Read /proc outside the lock.)
	if owner := b.get().pid; owner == 0 || !descends(pid, owner) {
		n.log.Warn().Str("process", full).Int("sender_pid", pid).Int("process_pid", owner).
			Msg("notify message from a process that is not the program or its child: ignored")
		return
	}
	b.update(func(s *beatState) {
		for line := range bytes.SplitSeq(msg, []byte("\n")) {
			k, v, _ := strings.Cut(string(line), "=")
			switch k {
			case "WATCHDOG":
				if v == "trigger" {
					s.trigger = "WATCHDOG=trigger"
				} else if v == "1" {
					s.last = at
				}
			case "READY":
				if v == "1" {
					s.ready, s.last = true, at
				}
			case "WATCHDOG_USEC":
				if us, err := strconv.ParseInt(v, 10, 64); err == nil && us > 0 {
					s.ttl = time.Duration(us) * time.Microsecond
				}
			case "STATUS":
				s.status = clipStatus(v)
			}
		}
	})
}

func clipStatus(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// descends reports whether pid is ancestor or one of its descendants, by
// the parent links in /proc (bounded: a pid is not followed past 64
// parents).
func descends(pid, ancestor int) bool {
	for range 64 {
		if pid == ancestor {
			return true
		}
		if pid <= 1 {
			return false
		}
		ppid, err := parentPID(pid)
		if err != nil {
			return false
		}
		pid = ppid
	}
	return false
}

// parentPID reads the parent of pid from /proc (prometheus/procfs).
func parentPID(pid int) (int, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0, err
	}
	st, err := p.Stat()
	if err != nil {
		return 0, err
	}
	return st.PPID, nil
}
