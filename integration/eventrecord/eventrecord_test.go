package eventrecord

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	if recs, err := ReadFile(path); err != nil || recs != nil {
		t.Fatalf("ReadFile(missing) = %v, %v; want nil, nil", recs, err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := []Record{
		{Kind: KindEvent, PID: 10, Time: when, Ver: "3.0", Server: "supervisor", Serial: 7, Pool: "tl", PoolSerial: 3,
			EventName: "PROCESS_STATE_RUNNING", Len: 60, Payload: "processname:a groupname:a from_state:STARTING pid:12",
			Fields: map[string]string{"processname": "a"}, Attempt: 1, Answer: AnswerOK},
		{Kind: KindEvent, PID: 11, Time: when, Serial: 7, Pool: "tl", PoolSerial: 3, EventName: "PROCESS_STATE_RUNNING",
			Payload: "prix 42 € ✓", Redelivered: true, Attempt: 2, Missed: 4, Answer: AnswerFail},
		{Kind: KindReconcile, PID: 11, Time: when, Reason: "gap", Pool: "tl", Missed: 4, Processes: 21},
	}
	for _, r := range want {
		if err := Append(path, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadFile =\n%+v\nwant\n%+v", got, want)
	}
	if ev := Events(got, "PROCESS_STATE_RUNNING"); len(ev) != 2 {
		t.Errorf("Events(RUNNING) = %d records, want 2", len(ev))
	}
	if ev := Events(got, ""); len(ev) != 2 {
		t.Errorf("Events(\"\") = %d records, want 2", len(ev))
	}
}

func TestConcurrentAppendsKeepWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 25 {
				if err := Append(path, Record{Kind: KindEvent, PID: i, Serial: int64(j), Payload: strings.Repeat("x", 3000)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	recs, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 200 {
		t.Errorf("read %d records, want 200", len(recs))
	}
}

func TestReadFileRejectsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	if err := os.WriteFile(path, []byte(`{"kind":"event","serial":1}`+"\n"+`{"kind":"ev`), 0o600); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("ReadFile error = %v, want one naming line 2", err)
	}
	if len(recs) != 1 {
		t.Errorf("records before the torn line = %d, want 1", len(recs))
	}
}
