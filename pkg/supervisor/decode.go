package supervisor

import (
	"fmt"
	"time"
)

// Decoders for the values of a Multicall: CallResult.Value holds what
// kolo/xmlrpc decoded into interfaces (structs as map[string]any, ints as
// int64, an empty string as nil). Each returns an error naming the method
// when the value has the wrong shape.

// DecodeProcessInfo decodes a getProcessInfo result.
func DecodeProcessInfo(v any) (ProcessInfo, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return ProcessInfo{}, fmt.Errorf("getProcessInfo: decode: got %T", v)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	num := func(k string) int64 { n, _ := m[k].(int64); return n }
	return rawProcessInfo{
		Name: str("name"), Group: str("group"), Description: str("description"),
		Start: num("start"), Stop: num("stop"), Now: num("now"),
		State: int(num("state")), StateName: str("statename"), SpawnErr: str("spawnerr"),
		ExitStatus: int(num("exitstatus")), StdoutLogfile: str("stdout_logfile"), StderrLogfile: str("stderr_logfile"),
		PID: int(num("pid")),
	}.info(), nil
}

// DecodeTail decodes a tailProcessStderrLog or tailProcessStdoutLog
// result, the [data, offset, overflow] array.
func DecodeTail(v any) (Tail, error) {
	a, ok := v.([]any)
	if !ok {
		return Tail{}, fmt.Errorf("tail: decode: got %T", v)
	}
	t, err := parseTail(a)
	if err != nil {
		return Tail{}, fmt.Errorf("tail: %w", err)
	}
	return t, nil
}

// DecodeLog decodes a readLog result: the log text ("" when empty).
func DecodeLog(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("readLog: decode: got %T", v)
	}
	return s, nil
}

// ConfigInfo is the part of one getAllConfigInfo entry superguard reads.
type ConfigInfo struct {
	Name     string
	Group    string
	StopWait time.Duration // stopwaitsecs; 0 when the entry has none
}

// DecodeAllConfigInfo decodes a getAllConfigInfo result. Entries that are
// not structs are skipped.
func DecodeAllConfigInfo(v any) ([]ConfigInfo, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("getAllConfigInfo: unexpected %T", v)
	}
	out := make([]ConfigInfo, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		c := ConfigInfo{}
		c.Name, _ = m["name"].(string)
		c.Group, _ = m["group"].(string)
		if secs, ok := m["stopwaitsecs"].(int64); ok {
			c.StopWait = time.Duration(secs) * time.Second
		}
		out = append(out, c)
	}
	return out, nil
}
