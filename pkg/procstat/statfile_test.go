package procstat

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/procfs"
)

// TestParseStatAgreesWithProcfs: on every process of this machine the
// fields memguard uses are what procfs's own parser reads.
func TestParseStatAgreesWithProcfs(t *testing.T) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		t.Fatal(err)
	}
	procs, err := fs.AllProcs()
	if err != nil {
		t.Fatal(err)
	}
	r := newReader(t)
	compared := 0
	for _, p := range procs {
		want, err := p.Stat()
		if err != nil {
			continue
		}
		got, err := r.statOf(p.PID, false)
		if err != nil {
			continue // gone in between
		}
		if got.PID != want.PID || got.Comm != want.Comm || got.State != want.State || got.PPID != want.PPID ||
			got.NumThreads != want.NumThreads || got.Starttime != want.Starttime || got.VSize != want.VSize ||
			got.UTime < want.UTime || got.STime < want.STime || (got.RSS == 0) != (want.RSS == 0) {
			t.Errorf("pid %d: got %+v\nwant %+v", p.PID, got, want)
		}
		compared++
	}
	if compared < 2 {
		t.Fatalf("compared %d processes", compared)
	}
}

func TestParseStatOddCommands(t *testing.T) {
	tail := " S 1 2 3 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 4 0 4242 1000 25 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	for comm, want := range map[string]string{"a b) c": "a b) c", "": "", "x (y": "x (y"} {
		st, err := parseStat(9, []byte("9 ("+comm+")"+tail))
		if err != nil || st.Comm != want || st.PPID != 1 || st.UTime != 7 || st.STime != 3 || st.NumThreads != 4 || st.Starttime != 4242 || st.RSS != 25 {
			t.Errorf("comm %q: %+v %v", comm, st, err)
		}
	}
	for _, bad := range []string{"", "9 no parens", "9 (x) S 1 2", "9 (x) S one 2 3 0 -1 0 0 0 0 0 7 3 0 0 20 0 4 0 4242 1000 25"} {
		if _, err := parseStat(9, []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestHeldFileOfAGoneProcess: the stat file kept open for a process that
// exits fails (gone), and is not kept.
func TestHeldFileOfAGoneProcess(t *testing.T) {
	cmd := exec.Command("/bin/sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := newReader(t)
	if _, err := r.statOf(cmd.Process.Pid, true); err != nil || r.held[cmd.Process.Pid] == nil {
		t.Fatalf("first read: %v (held %v)", err, r.held[cmd.Process.Pid] != nil)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	_, err := r.statOf(cmd.Process.Pid, true)
	if !errors.Is(err, os.ErrNotExist) || r.held[cmd.Process.Pid] != nil {
		t.Errorf("after the exit: %v (held %v)", err, r.held[cmd.Process.Pid] != nil)
	}
	got, errs := r.Read([]Want{{PID: cmd.Process.Pid}})
	if got[cmd.Process.Pid] != nil || !errors.Is(errs[cmd.Process.Pid], ErrGone) || !strings.Contains(errs[cmd.Process.Pid].Error(), "gone") {
		t.Errorf("Read: %v %v", got, errs)
	}
	if err := r.Close(); err != nil || len(r.held) != 0 {
		t.Errorf("Close: %v, %d held", err, len(r.held))
	}
}

// FuzzParseStat: any bytes in /proc/PID/stat (a command may hold spaces,
// parentheses, newlines) give fields or an error, never a panic.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("9 (sh) S 1 2 3 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 4242 1000 25 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"))
	f.Add([]byte("9 (a) b) S 1"))
	f.Add([]byte("9 ()"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseStat(9, data)
		if err == nil && st.PID != 9 {
			t.Fatalf("pid %d", st.PID)
		}
	})
}
