package haltguard

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/superguard/superguard/integration/harness"
	"github.com/superguard/superguard/internal/testsupport"
	"github.com/superguard/superguard/pkg/supervisor"
)

// TestGateFailsClosedAndLetsNonRootStrategyPass: a strategy run as
// another user (nobody) through `haltguard gate` starts while trading is
// not halted: it reads only the latch file, world-readable and free of
// secrets, not the config or the store. Once halted, a start is refused
// with the reason in its stderr log even though haltguard stops it too. A
// gate with no config and no -latch refuses, and creates no store.
func TestGateFailsClosedAndLetsNonRootStrategyPass(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("runs a program as user nobody: needs root")
	}
	pub := publicDir(t, "./listeners/haltguard", "./integration/cmd/fakestrategy")
	latch := filepath.Join(pub, "halt.latch")
	sc := start(t, stack{
		targets:   2,
		haltguard: "latch_file: " + latch,
		members:   ",gated,nocfg",
		extra: `
[program:gated]
command=` + pub + `/haltguard gate -latch ` + latch + ` -- ` + pub + `/fakestrategy
user=nobody
startsecs=1
startretries=30
priority=20
stderr_logfile={{.Dir}}/gated.err

[program:nocfg]
command=` + pub + `/haltguard gate -config {{.Dir}}/absent.yaml -state {{.Dir}}/nocfg.db -- ` + pub + `/fakestrategy
startsecs=1
startretries=0
autorestart=false
priority=20
stderr_logfile={{.Dir}}/nocfg.err
`,
	})
	// Not halted: the strategy passes the gate as nobody.
	info := sc.WaitProcessState(t, "trading:gated", supervisor.ProcessRunning, waitUp)
	if uid := procUID(t, info.PID); uid == 0 {
		t.Errorf("trading:gated runs as root (uid %d), want nobody", uid)
	}
	// No config and no -latch: refused, and no store created.
	sc.WaitProcessState(t, "trading:nocfg", supervisor.ProcessFatal, waitUp)
	if b, _ := os.ReadFile(sc.Path("nocfg.err")); !strings.Contains(string(b), "haltguard gate: cannot find the halt latch") {
		t.Errorf("nocfg's stderr: %q", b)
	}
	if _, err := os.Stat(sc.Path("nocfg.db")); err == nil {
		t.Error("the gate created a state store")
	}

	if out, errOut, code := sc.cli(t, "halt", "--reason", "gate test"); code != 0 {
		t.Fatalf("halt: exit %d\n%s%s", code, out, errOut)
	}
	sc.WaitProcessState(t, "trading:gated", supervisor.ProcessStopped, waitHalt)
	if err := sc.Client.StartProcess(ctxT(t), "trading:gated", false); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, waitHalt, "the gate's refusal in gated's stderr", func() (bool, string) {
		b, _ := os.ReadFile(sc.Path("gated.err"))
		return strings.Contains(string(b), "haltguard gate: trading is HALTED since") && strings.Contains(string(b), "gate test"), string(b)
	})
}

// TestHaltHoldsOnFullDisk: with the state store's file system full, a halt
// stops the targets and is still recorded (the latch file is written in
// place, into blocks it already has): status says halted, and a restarted
// haltguard keeps the targets stopped.
func TestHaltHoldsOnFullDisk(t *testing.T) {
	t.Parallel()
	mnt := tmpfs(t, "8m")
	sc := start(t, stack{targets: 3, statePath: mnt + "/state.db"})
	sc.waitTicks(t, 1) // the store, the latch file and a heartbeat written
	fill(t, mnt)

	sc.breakRisk(t)
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	out, _, code := sc.cli(t, "status")
	if code != 3 || !strings.Contains(out, "HALTED") {
		t.Fatalf("status on a full disk: exit %d\n%s", code, out)
	}
	pid := sc.Signal(t, "haltguard:haltguard", syscall.SIGKILL)
	testsupport.Eventually(t, waitUp, "haltguard restarted", func() (bool, string) {
		info, err := sc.Client.GetProcessInfo(ctxT(t), "haltguard:haltguard")
		return err == nil && info.State == supervisor.ProcessRunning && info.PID != pid, info.State.String()
	})
	if err := sc.Client.StartProcess(ctxT(t), "trading:strat_00", false); err != nil {
		t.Fatal(err)
	}
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	if _, _, code := sc.cli(t, "status"); code != 3 {
		t.Errorf("status after the restart: exit %d, want 3 (halted)", code)
	}
}

// TestHaltHoldsOnReadOnlyStore: with the state store's file system turned
// read-only, a halt is recorded in the latch mirror on another file system:
// status says halted and the gate refuses.
func TestHaltHoldsOnReadOnlyStore(t *testing.T) {
	t.Parallel()
	mnt := tmpfs(t, "8m")
	mirror := filepath.Join(t.TempDir(), "halt.latch")
	sc := start(t, stack{targets: 3, statePath: mnt + "/state.db", haltguard: "latch_mirror: " + mirror})
	sc.waitTicks(t, 1)
	// Read-only under a running haltguard: stopped while the file system
	// is remounted (a file open for writing keeps it writable), started
	// again on it.
	if err := sc.Client.StopProcess(ctxT(t), "haltguard:haltguard", true); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	if err := sc.Client.StartProcess(ctxT(t), "haltguard:haltguard", true); err != nil {
		t.Fatal(err)
	}
	sc.breakRisk(t)
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	if out, _, code := sc.cli(t, "status"); code != 3 || !strings.Contains(out, "HALTED") {
		t.Fatalf("status with the store read-only: exit %d\n%s", code, out)
	}
	_, errOut, code := sc.cli(t, "gate", "--", "/bin/true")
	if code != 3 || !strings.Contains(errOut, "trading is HALTED") {
		t.Errorf("gate with the store read-only: exit %d\n%s", code, errOut)
	}
}

// tmpfs mounts a tmpfs of size in a new temporary directory (root only),
// unmounted at the end of the test.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounts a small file system to fill it: needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes into dir until its file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("fill %s: %v", dir, err)
			}
			return
		}
	}
}

// publicDir copies the built binaries of pkgs into a new directory every
// user can read and traverse (the test's own are private), for programs run
// as another user.
func publicDir(t *testing.T, pkgs ...string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sg-public-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, pkg := range pkgs {
		src, err := os.Open(harness.Bin(t, pkg))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(dir, filepath.Base(pkg)), os.O_WRONLY|os.O_CREATE, 0o755)
		if err == nil {
			_, err = io.Copy(dst, src)
			if cerr := dst.Close(); err == nil {
				err = cerr
			}
		}
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// procUID is the real uid pid runs as.
func procUID(t *testing.T, pid int) int {
	t.Helper()
	fi, err := os.Stat("/proc/" + strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// TestHaltHoldsWhileStoreLocked: with the state store locked by another
// writer (a stuck operator command, a backup), a halt is recorded at once
// in the latch file: status says halted while the lock is held, where the
// store alone would still read "not halted"; once the lock is gone the
// store has the halt too.
func TestHaltHoldsWhileStoreLocked(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 3})
	sc.waitTicks(t, 1)
	db, err := sql.Open("sqlite", sc.statePth)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctxT(t), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	sc.breakRisk(t)
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	if out, _, code := sc.cli(t, "status"); code != 3 || !strings.Contains(out, "HALTED") {
		t.Errorf("status while the store is locked: exit %d\n%s", code, out)
	}
	if _, err := conn.ExecContext(ctxT(t), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, waitHalt, "the halt in the store", func() (bool, string) {
		l := sc.latch(t)
		return l.Latched, fmt.Sprintf("%+v", l)
	})
}

// TestCorruptLatchHalts: a latch file that cannot be read (here
// overwritten with garbage) is treated as set: the next check halts, with
// the reason, and writes a fresh latch; the gate refuses meanwhile.
func TestCorruptLatchHalts(t *testing.T) {
	t.Parallel()
	sc := start(t, stack{targets: 2})
	sc.waitTicks(t, 1)
	if err := os.WriteFile(sc.Path("halt.latch"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc.waitTargets(t, supervisor.ProcessStopped, waitHalt)
	halt := sc.waitAudit(t, "halt", nil, waitHalt)
	if reason, _ := halt["reason"].(string); !strings.Contains(reason, "the halt latch cannot be read") {
		t.Errorf("halt audit %v: want the unreadable latch as reason", halt)
	}
	if out, _, code := sc.cli(t, "status"); code != 3 || !strings.Contains(out, "HALTED") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
}
