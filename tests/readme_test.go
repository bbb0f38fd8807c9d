package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/cloudevent"
)

// TestReadmeFormatTables keeps the README's "Producers and formats" tables in
// agreement with the adapters: every format has a row in the mapping table, and each
// seed example's row shows the id, source, type, subject and time of its golden file.
func TestReadmeFormatTables(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## Producers and formats")
	if start < 0 {
		t.Fatal(`README has no "## Producers and formats" section`)
	}
	section := readme[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	for _, f := range []string{"cloudevents", "juno", "bkmonitor", "iuap", "huaweiconfig", "generic"} {
		if !strings.Contains(section, "\n| `"+f+"`") {
			t.Errorf("the mapping table has no row for %s", f)
		}
	}
	seen := 0
	inExamples := false
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| example |") {
			inExamples = true
			continue
		}
		if !inExamples || !strings.HasPrefix(line, "| `") {
			if inExamples && seen > 0 && !strings.HasPrefix(line, "|") {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 6 {
			t.Errorf("row %q: want 6 cells", line)
			continue
		}
		for i, c := range cells {
			cells[i] = strings.Trim(c, "`")
			if c == "—" {
				cells[i] = ""
			}
		}
		dir, name, _ := strings.Cut(cells[0], "/")
		golden, err := os.ReadFile(filepath.Join("..", "shared", "adapter", dir, "testdata", name+".golden"))
		if err != nil {
			t.Errorf("row %s: %v", cells[0], err)
			continue
		}
		ev, err := cloudevent.Parse(golden)
		if err != nil {
			t.Errorf("row %s: golden: %v", cells[0], err)
			continue
		}
		want := []string{ev.ID, ev.Source, ev.Type, ev.Subject, ev.Time}
		for i, w := range want {
			if cells[i+1] != w {
				t.Errorf("README row %s, column %d = %q; the golden file says %q", cells[0], i+2, cells[i+1], w)
			}
		}
		seen++
	}
	if seen < 10 {
		t.Errorf("found %d seed example rows; want every seed format's examples", seen)
	}
}
