package lambda

import (
	"regexp"
	"testing"
)

func TestTraceFor(t *testing.T) {
	tests := []struct {
		caller string
		want   *regexp.Regexp
	}{
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
			regexp.MustCompile(`^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$`)},
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Lineage=a:1",
			regexp.MustCompile(`^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=0$`)},
		{"", regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)},
		{"Parent=53995c3f42cd8ad8", regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)},
	}
	for _, tc := range tests {
		if got := traceFor(tc.caller); !tc.want.MatchString(got) {
			t.Errorf("traceFor(%q) = %q; want %s", tc.caller, got, tc.want)
		}
	}
}
