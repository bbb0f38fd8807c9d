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

// All lists every format, in the order detection tries them (generic last).
var All = []string{CloudEvents, HuaweiConfig, BKMonitor, Juno, IUAP, Generic}

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
