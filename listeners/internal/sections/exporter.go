package sections

import (
	"fmt"
	"net"

	"github.com/superguard/superguard/pkg/config"
)

// Exporter is the `listeners: exporter:` section of the shared YAML config:
//
//	listeners:
//	  exporter:
//	    listen: 127.0.0.1:9851        # host:port of /metrics
//	    web_config: /etc/superguard/exporter-web.yml   # TLS and basic auth (Prometheus' web config format)
//	    processes: ["*"]              # the processes exported (procmatch patterns)
type Exporter struct {
	Listen    string          `yaml:"listen"`
	WebConfig string          `yaml:"web_config"`
	Processes config.Patterns `yaml:"processes"`
}

// DefaultExporterListen is where /metrics is served by default: loopback
// only, since without web_config it has no authentication.
const DefaultExporterListen = "127.0.0.1:9851"

// WithDefaults fills in the defaults.
func (s Exporter) WithDefaults() Exporter {
	if s.Listen == "" {
		s.Listen = DefaultExporterListen
	}
	return s
}

// Validate checks the section (the web config file is checked by the
// exporter itself, which links the code that reads it).
func (s Exporter) Validate() error {
	if _, port, err := net.SplitHostPort(s.Listen); err != nil || port == "" {
		return fmt.Errorf("listeners.exporter.listen: %q: want host:port (e.g. %s)", s.Listen, DefaultExporterListen)
	}
	return nil
}
