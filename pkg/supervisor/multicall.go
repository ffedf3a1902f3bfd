package supervisor

import (
	"context"
	"fmt"
)

const methodMulticall = "system.multicall"

// Multicall runs calls in one round trip with system.multicall, in order,
// and returns one CallResult per call. A call that faults gets a *Fault in
// its CallResult.Err and does not stop the others; the returned error is for
// the request as a whole. supervisord returns each value unwrapped (not in the
// one-element array of the XML-RPC multicall convention), and waits for
// calls with wait=true before running the next one.
func (c *Client) Multicall(ctx context.Context, calls []Call) ([]CallResult, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	req := make([]any, len(calls))
	for i, call := range calls {
		params := call.Params
		if params == nil {
			params = []any{}
		}
		req[i] = map[string]any{"methodName": call.Method, "params": params}
	}
	var raw []any
	if err := c.call(ctx, methodMulticall, &raw, req); err != nil {
		return nil, err
	}
	results, err := parseMulticall(raw, len(calls))
	if err != nil {
		return nil, c.wrap(methodMulticall, err)
	}
	return results, nil
}

// parseMulticall turns system.multicall's result array into CallResults:
// a {faultCode, faultString} struct is a fault, anything else a value.
func parseMulticall(raw []any, want int) ([]CallResult, error) {
	if len(raw) != want {
		return nil, fmt.Errorf("decode response: %d results for %d calls", len(raw), want)
	}
	results := make([]CallResult, len(raw))
	for i, v := range raw {
		if f, ok := inlineFault(v); ok {
			results[i].Err = f
			continue
		}
		results[i].Value = v
	}
	return results, nil
}

// inlineFault recognises a multicall fault struct.
func inlineFault(v any) (*Fault, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 2 {
		return nil, false
	}
	code, ok1 := m["faultCode"].(int64)
	text, ok2 := m["faultString"].(string)
	if !ok1 || !ok2 {
		return nil, false
	}
	return newFault(int(code), text), true
}
