package supervisor_test

// The Go supervisord (github.com/ochinchina/supervisord v0.7.3) is a
// compatibility target. This test serves its XML-RPC wire format with the
// very libraries and types it uses (gorilla/rpc, its gorilla-xmlrpc codec
// and its types.ProcessInfo), with handlers copied from its supervisor.go.

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/rpc"
	"github.com/ochinchina/gorilla-xmlrpc/xml"
	"github.com/ochinchina/supervisord/types"

	"github.com/superguard/superguard/pkg/supervisor"
)

// Supervisor mirrors the Go supervisord's RPC receiver; the type name is
// part of the method names ("Supervisor.GetState").
type Supervisor struct {
	infos []types.ProcessInfo
}

// StateInfo is the Go supervisord's getState reply.
type StateInfo struct {
	Statecode int    `xml:"statecode"`
	Statename string `xml:"statename"`
}

// StartProcessArgs is the Go supervisord's startProcess argument.
type StartProcessArgs struct {
	Name string
	Wait bool `default:"true"`
}

// GetState is the Go supervisord's supervisor.getState.
func (s *Supervisor) GetState(r *http.Request, args *struct{}, reply *struct{ StateInfo StateInfo }) error {
	reply.StateInfo = StateInfo{Statecode: 1, Statename: "RUNNING"}
	return nil
}

// GetAllProcessInfo is the Go supervisord's supervisor.getAllProcessInfo.
func (s *Supervisor) GetAllProcessInfo(r *http.Request, args *struct{}, reply *struct{ AllProcessInfo []types.ProcessInfo }) error {
	reply.AllProcessInfo = s.infos
	return nil
}

// GetProcessInfo is the Go supervisord's supervisor.getProcessInfo.
func (s *Supervisor) GetProcessInfo(r *http.Request, args *struct{ Name string }, reply *struct{ ProcInfo types.ProcessInfo }) error {
	for _, p := range s.infos {
		if p.Name == args.Name {
			reply.ProcInfo = p
			return nil
		}
	}
	return fmt.Errorf("no process named %s", args.Name)
}

// StartProcess is the Go supervisord's supervisor.startProcess (for one
// known program, "web").
func (s *Supervisor) StartProcess(r *http.Request, args *StartProcessArgs, reply *struct{ Success bool }) error {
	if args.Name != "web" {
		return fmt.Errorf("fail to find process %s", args.Name)
	}
	reply.Success = true
	return nil
}

func startGoSupervisord(t *testing.T, infos []types.ProcessInfo) *supervisor.Client {
	t.Helper()
	server := rpc.NewServer()
	codec := xml.NewCodec()
	server.RegisterCodec(codec, "text/xml")
	if err := server.RegisterService(&Supervisor{infos: infos}, ""); err != nil {
		t.Fatal(err)
	}
	codec.RegisterAlias("supervisor.getState", "Supervisor.GetState")
	codec.RegisterAlias("supervisor.getAllProcessInfo", "Supervisor.GetAllProcessInfo")
	codec.RegisterAlias("supervisor.getProcessInfo", "Supervisor.GetProcessInfo")
	codec.RegisterAlias("supervisor.startProcess", "Supervisor.StartProcess")
	mux := http.NewServeMux()
	mux.Handle("/RPC2", server)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c, err := supervisor.New(supervisor.Config{URL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestGoSupervisordCompat(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start.Add(90 * time.Second)
	infos := []types.ProcessInfo{
		{
			Name: "web", Group: "", Description: "pid 42, uptime 0:01:30",
			Start: int(start.Unix()), Stop: int(time.Time{}.Unix()), Now: int(now.Unix()),
			State: 20, Statename: "Running", StdoutLogfile: "/var/log/web.log", Pid: 42,
		},
		{
			Name: "worker", Group: "jobs", Description: "",
			Start: int(time.Time{}.Unix()), Stop: int(time.Time{}.Unix()), Now: int(now.Unix()),
			State: 200, Statename: "Fatal", Exitstatus: 1,
		},
	}
	c := startGoSupervisord(t, infos)

	st, err := c.GetState(ctx(t, 5*time.Second))
	if err != nil || st != (supervisor.State{Code: 1, Name: "RUNNING"}) {
		t.Fatalf("GetState = %+v, %v", st, err)
	}
	got, err := c.GetAllProcessInfo(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatalf("GetAllProcessInfo: %v", err)
	}
	want := []supervisor.ProcessInfo{
		{
			Name: "web", State: supervisor.ProcessRunning, StateName: "Running", PID: 42,
			Start: start.Local(), Now: now.Local(), Description: "pid 42, uptime 0:01:30",
			StdoutLogfile: "/var/log/web.log",
		},
		{
			Name: "worker", Group: "jobs", State: supervisor.ProcessFatal, StateName: "Fatal",
			Now: now.Local(), ExitStatus: 1,
		},
	}
	if len(got) != len(want) {
		t.Fatalf("GetAllProcessInfo = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("process %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if got[0].FullName() != "web" || got[1].FullName() != "jobs:worker" {
		t.Errorf("FullName = %q, %q", got[0].FullName(), got[1].FullName())
	}
	if got[0].Uptime() != 90*time.Second {
		t.Errorf("Uptime = %v, want 90s", got[0].Uptime())
	}

	// The Go supervisord answers every error with fault -32500 and free text.
	_, err = c.GetProcessInfo(ctx(t, 5*time.Second), "nope")
	var f *supervisor.Fault
	if !errors.As(err, &f) {
		t.Fatalf("GetProcessInfo(nope) = %v, want a *Fault", err)
	}
	if want := (supervisor.Fault{Code: -32500, Detail: "Application Error: no process named nope"}); *f != want {
		t.Errorf("fault = %+v, want %+v", *f, want)
	}
	if err := c.StartProcess(ctx(t, 5*time.Second), "web", true); err != nil {
		t.Errorf("StartProcess(web): %v", err)
	}
	if err := c.StartProcess(ctx(t, 5*time.Second), "nope", true); !supervisor.IsFault(err, -32500) {
		t.Errorf("StartProcess(nope) = %v, want fault -32500", err)
	}
}
