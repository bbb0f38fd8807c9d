// Package format names the formats producers send. Package adapter reads them; code
// that only needs their names (the api function, which checks a source's format)
// imports this package and does not link and initialize the adapters.
package format

// Formats. Auto is not a format of an event but a source's choice to detect each one.
const (
	Auto         = "auto"
	CloudEvents  = "cloudevents"
	Juno         = "juno"
	BKMonitor    = "bkmonitor"
	IUAP         = "iuap"
	HuaweiConfig = "huaweiconfig"
	Generic      = "generic"
)

// Presets: formats read by a shipped mapping (package mapping), not by Go code. GitHub,
// GitLab and Standard Webhooks producers name the event in request headers, so Auto
// never detects them (nor Alertmanager and Grafana, which Generic keeps as they are).
const (
	Alertmanager     = "alertmanager"
	Grafana          = "grafana"
	GitHub           = "github"
	GitLab           = "gitlab"
	StandardWebhooks = "standardwebhooks"
)

// Presets lists the preset formats, sorted (mapping.Presets()).
var Presets = []string{Alertmanager, GitHub, GitLab, Grafana, StandardWebhooks}

// All lists every format: those detection tries, in its order (generic last), then the
// presets.
var All = []string{CloudEvents, HuaweiConfig, BKMonitor, Juno, IUAP, Generic,
	Alertmanager, Grafana, GitHub, GitLab, StandardWebhooks}

// Known reports whether f is a format or Auto.
func Known(f string) bool {
	if f == Auto {
		return true
	}
	for _, k := range All {
		if k == f {
			return true
		}
	}
	return false
}
