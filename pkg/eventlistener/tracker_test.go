package eventlistener

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func hdr(pool string, serial, poolSerial int64) Header {
	return Header{Ver: "3.0", Server: "s", Serial: serial, Pool: pool, PoolSerial: poolSerial, EventName: "X"}
}

func TestTrackerObserve(t *testing.T) {
	type step struct {
		h    Header
		want observation
	}
	first := observation{attempt: 1}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "consecutive", steps: []step{
			{hdr("p", 0, 0), first}, {hdr("p", 1, 1), first}, {hdr("p", 2, 2), first}}},
		{name: "serial gaps are other pools' events, not drops", steps: []step{
			{hdr("p", 3, 0), first}, {hdr("p", 9, 1), first}, {hdr("p", 40, 2), first}}},
		{name: "FAIL re-sends count attempts", steps: []step{
			{hdr("p", 5, 5), first},
			{hdr("p", 5, 5), observation{attempt: 2, redelivered: true}},
			{hdr("p", 5, 5), observation{attempt: 3, redelivered: true}},
			{hdr("p", 6, 6), first}}},
		{name: "poolserial gap", steps: []step{
			{hdr("p", 5, 5), first}, {hdr("p", 12, 9), observation{attempt: 1, missed: 3}}, {hdr("p", 13, 10), first}}},
		{name: "reload: poolserial back to 0, serial goes on", steps: []step{
			{hdr("p", 50, 7), first}, {hdr("p", 51, 0), observation{attempt: 1, poolReset: true}}, {hdr("p", 52, 1), first}}},
		{name: "first event after start is never a gap", steps: []step{
			{hdr("p", 500, 300), first}}},
		{name: "another pool is not compared", steps: []step{
			{hdr("a", 1, 1), first}, {hdr("b", 1, 9), first}, {hdr("b", 2, 10), first}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := newTracker("", "i1")
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				if got := tr.observe(s.h); got != s.want {
					t.Fatalf("step %d %+v: observe = %+v, want %+v", i, s.h, got, s.want)
				}
			}
		})
	}
}

func TestTrackerStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	open := func(instance string) *tracker {
		t.Helper()
		tr, err := newTracker(path, instance)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.close() })
		return tr
	}
	tr := open("i1")
	tr.observe(hdr("p", 7, 3))
	if err := tr.save(); err != nil {
		t.Fatal(err)
	}
	var saved received
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	if want := (received{Instance: "i1", Pool: "p", Serial: 7, PoolSerial: 3, Attempt: 1}); saved != want {
		t.Fatalf("saved %+v, want %+v", saved, want)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left behind: %v", err)
	}

	tests := []struct {
		name     string
		instance string
		h        Header
		want     observation
	}{
		{name: "listener restarted mid-handler: same event again", instance: "i1", h: hdr("p", 7, 3), want: observation{attempt: 2, redelivered: true}},
		{name: "listener restarted, events dropped meanwhile", instance: "i1", h: hdr("p", 20, 8), want: observation{attempt: 1, missed: 4}},
		{name: "supervisord restarted: serial 7 is another event", instance: "i2", h: hdr("p", 7, 3), want: observation{attempt: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := open(tt.instance).observe(tt.h); got != tt.want {
				t.Fatalf("observe = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTrackerStateFileErrors(t *testing.T) {
	t.Run("corrupt file starts afresh", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		tr, err := newTracker(path, "i1")
		if tr == nil || err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("newTracker = %v, %v: want a usable tracker and an error naming the file", tr, err)
		}
		defer tr.close()
		if o := tr.observe(hdr("p", 1, 1)); o != (observation{attempt: 1}) {
			t.Fatalf("observe = %+v", o)
		}
		if err := tr.save(); err != nil {
			t.Fatalf("save over a corrupt file: %v", err)
		}
	})
	t.Run("a failed save leaves no stale file", func(t *testing.T) {
		// A save that fails must not leave the file at an older event: after
		// a restart the next event would look like dropped events.
		path, tr := savedThenBlocked(t)
		for i := int64(2); i <= 5; i++ {
			tr.observe(hdr("p", i, i))
			if err := tr.save(); err == nil {
				t.Fatal("save succeeded with its temporary file blocked")
			}
		}
		tr.close()
		restarted, err := newTracker(path, "i1")
		if restarted == nil {
			t.Fatal(err)
		}
		defer restarted.close()
		if o := restarted.observe(hdr("p", 6, 6)); o.missed != 0 {
			t.Errorf("after failed saves and a restart: observe = %+v, want no gap", o)
		}
	})
	t.Run("a file that cannot be kept current is not trusted", func(t *testing.T) {
		path, tr := savedThenBlocked(t)
		tr.close()
		restarted, err := newTracker(path, "i1")
		if restarted == nil || err == nil || !strings.Contains(err.Error(), "not trusted") {
			t.Fatalf("newTracker = %v, %v: want a usable tracker and an error saying the file is not trusted", restarted, err)
		}
		defer restarted.close()
		if o := restarted.observe(hdr("p", 9, 9)); o.missed != 0 {
			t.Errorf("observe = %+v, want no gap from a file that may be stale", o)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope", "state.json")
		if tr, err := newTracker(path, "i1"); tr != nil || err == nil {
			t.Fatalf("newTracker = %v, %v: want an error", tr, err)
		}
	})
	t.Run("unwritable directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root can write anywhere")
		}
		dir := t.TempDir()
		tr, err := newTracker(filepath.Join(dir, "state.json"), "i1")
		if err != nil {
			t.Fatal(err)
		}
		defer tr.close()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		tr.observe(hdr("p", 1, 1))
		if err := tr.save(); err == nil {
			t.Fatal("save into a read-only directory succeeded")
		}
	})
}

func TestInstanceOf(t *testing.T) {
	proc := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(proc, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proc, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The command name holds spaces and a ')': fields are counted after the last ')'.
	write("42/stat", "42 (super visor) d) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100 ...\n")
	write("sys/kernel/random/boot_id", "b00t-1d\n")
	write("43/stat", "43 (short) S 1\n")
	tests := []struct {
		pid  int
		want string
	}{
		{42, "ppid:42 start:987654 boot:b00t-1d"},
		{43, "ppid:43"}, // too few fields
		{44, "ppid:44"}, // no such process
	}
	for _, tt := range tests {
		if got := instanceOf(tt.pid, proc); got != tt.want {
			t.Errorf("instanceOf(%d) = %q, want %q", tt.pid, got, tt.want)
		}
	}
	if got := DefaultInstance(); !strings.HasPrefix(got, "ppid:") || !strings.Contains(got, " start:") {
		t.Errorf("DefaultInstance() = %q", got)
	}
}

func TestFailBackoff(t *testing.T) {
	tests := []struct {
		base    time.Duration
		attempt int
		want    time.Duration
	}{
		{DefaultFailDelay, 1, 25 * time.Millisecond},
		{DefaultFailDelay, 2, 50 * time.Millisecond},
		{DefaultFailDelay, 3, 100 * time.Millisecond},
		{DefaultFailDelay, 4, 200 * time.Millisecond},
		{DefaultFailDelay, 5, MaxFailDelay},
		{DefaultFailDelay, 1000, MaxFailDelay},
		{time.Second, 1, MaxFailDelay},
		{time.Millisecond, 3, 4 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := failBackoff(tt.base, tt.attempt); got != tt.want {
			t.Errorf("failBackoff(%v, %d) = %v, want %v", tt.base, tt.attempt, got, tt.want)
		}
	}
	if MaxFailDelay >= time.Second/2 {
		t.Errorf("MaxFailDelay %v: must stay well under a second", MaxFailDelay)
	}
}

// savedThenBlocked returns a tracker that saved event 1 to its state file,
// whose later saves fail: the temporary file's name is taken by a
// directory, as a full disk would make them fail.
func savedThenBlocked(t *testing.T) (string, *tracker) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	tr, err := newTracker(path, "i1")
	if err != nil {
		t.Fatal(err)
	}
	tr.observe(hdr("p", 1, 1))
	if err := tr.save(); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path+".tmp", 0o700); err != nil {
		t.Fatal(err)
	}
	return path, tr
}
