package config

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseSize(t *testing.T) {
	good := map[string]Size{
		"2GiB": 2 << 30, "2 GiB": 2 << 30, "512MiB": 512 << 20, "1.5GiB": 3 << 29, "10KiB": 10 << 10,
		"2GB": 2e9, "512MB": 512e6, "10KB": 10e3, "10kB": 10e3, "4096": 4096, "0": 0,
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", "-1GB", "2XB", "GB", "1e400", "twelve", "99999999999EiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
		}
	}
	if s := Size(3 << 29).String(); s != "1.5 GiB" {
		t.Errorf("String = %q", s)
	}
}

func TestParseShare(t *testing.T) {
	for in, want := range map[string]Share{"90%": 0.9, "0.9": 0.9, " 5 % ": 0.05, "150%": 1.5, "2": 2} {
		got, err := ParseShare(in)
		if err != nil || got < want-1e-9 || got > want+1e-9 {
			t.Errorf("ParseShare(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "-5%", "ninety", "NaN", "Inf"} {
		if _, err := ParseShare(in); err == nil {
			t.Errorf("ParseShare(%q): no error", in)
		}
	}
}

func TestSizeYAML(t *testing.T) {
	var v struct {
		Max  Size  `yaml:"max"`
		Used Share `yaml:"used"`
	}
	if err := yaml.Unmarshal([]byte("max: 2GiB\nused: 90%\n"), &v); err != nil || v.Max != 2<<30 || v.Used != 0.9 {
		t.Fatalf("got %+v, %v", v, err)
	}
	err := yaml.Unmarshal([]byte("max: lots\n"), &v)
	if err == nil || !strings.Contains(err.Error(), `line 1: size "lots"`) {
		t.Fatalf("err = %v", err)
	}
}
