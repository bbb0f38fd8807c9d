package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFloorSources checks that every function's SDK clients are found in its main.go
// and that its floor's source is Go that builds them.
func TestFloorSources(t *testing.T) {
	for _, tc := range []struct {
		fn   string
		want []string
	}{
		{"ingest", []string{"dynamodb", "eventbridge"}},
		{"normalize", []string{"dynamodb", "eventbridge"}},
		{"persist", []string{"dynamodb", "eventbridge"}},
		{"notify", []string{"dynamodb", "sqs", "eventbridge"}},
		{"api", []string{"dynamodb", "sqs", "lambda", "eventbridge"}},
		{"replay", []string{"dynamodb", "sqs"}},
	} {
		got, err := sdkClients(filepath.Join("..", "..", "functions", tc.fn, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("sdkClients(%s) = %v; want %v", tc.fn, got, tc.want)
		}
		src, err := floorSource(tc.fn, got)
		if err != nil {
			t.Fatalf("floorSource(%s): %v", tc.fn, err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), "main.go", src, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("floor of %s: %v\n%s", tc.fn, err, src)
		}
		names := map[string]bool{}
		for _, im := range f.Imports {
			name := filepath.Base(strings.Trim(im.Path.Value, `"`))
			if im.Name != nil {
				name = im.Name.Name
			}
			if names[name] {
				t.Errorf("floor of %s imports two packages as %s", tc.fn, name)
			}
			names[name] = true
		}
		for _, svc := range tc.want {
			if !slices.ContainsFunc(f.Imports, func(im *ast.ImportSpec) bool { return strings.Trim(im.Path.Value, `"`) == sdkServices+svc }) {
				t.Errorf("floor of %s does not import service/%s", tc.fn, svc)
			}
			if !strings.Contains(string(src), svc+".NewFromConfig(cfg)") {
				t.Errorf("floor of %s does not build a %s client", tc.fn, svc)
			}
		}
	}
}
