package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoAdapters keeps the producers' adapters out of api: it checks a source's
// format by name (shared/adapter/format) and never reads a producer's event, and the
// adapters would add their code and package initialization to its binary and to each
// of its cold starts (make bench: binary_max_bytes, cold_start_ratio).
func TestLinksNoAdapters(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list api's packages")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-tags", "lambda.norpc", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const adapters = "github.com/eventhub/eventhub/shared/adapter"
	for _, p := range strings.Fields(string(out)) {
		if (p == adapters || strings.HasPrefix(p, adapters+"/")) && p != adapters+"/format" {
			t.Errorf("api links %s; it needs only the format names (%s/format)", p, adapters)
		}
	}
}
