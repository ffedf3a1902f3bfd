// Package httpurl checks the URLs superguard sends to (sinks, the dead-man
// ping): absolute, http or https, with a host.
package httpurl

import "net/url"

// Parse parses raw and reports whether it is an absolute http or https URL
// with a host; u is nil when it is not.
func Parse(raw string) (u *url.URL, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// Valid reports whether raw is an absolute http or https URL with a host.
func Valid(raw string) bool {
	_, ok := Parse(raw)
	return ok
}
