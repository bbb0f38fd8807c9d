package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/eventhub/eventhub/infra/local/template"
)

// lambdaFlags are the deployment build's flags (Makefile LAMBDA_FLAGS), CGO_ENABLED=0.
var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// bootstrap is one function's package and the binaries built from it.
type bootstrap struct {
	Name    string // logical id, e.g. IngestFunction; "hello" for the baseline
	Short   string // ingest, ..., hello
	Package string // ./functions/ingest
	Host    string // built for this machine, for the cold starts
	Arm64   string // built for linux/arm64, as deployed
}

// bootstraps lists the template's functions and the hello-world baseline.
func bootstraps(tpl *template.Template) []*bootstrap {
	var out []*bootstrap
	for _, f := range tpl.Functions {
		pkg := "./" + strings.TrimSuffix(filepath.ToSlash(f.CodeURI), "/")
		out = append(out, &bootstrap{Name: f.LogicalID, Short: filepath.Base(pkg), Package: pkg})
	}
	return append(out, &bootstrap{Name: "hello", Short: "hello", Package: "./infra/bench/hello"})
}

// build compiles every bootstrap twice with the deployment flags: for linux/arm64 (the
// sizes) and for this machine (the cold starts).
func build(ctx context.Context, root, dir string, bs []*bootstrap) error {
	for _, target := range []struct{ name, goos, goarch string }{
		{"arm64", "linux", "arm64"},
		{"host", "", ""},
	} {
		for _, b := range bs {
			out := filepath.Join(dir, target.name, b.Short, "bootstrap")
			args := append(append([]string{"build"}, lambdaFlags...), "-o", out, b.Package)
			cmd := exec.CommandContext(ctx, "go", args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if target.goos != "" {
				cmd.Env = append(cmd.Env, "GOOS="+target.goos, "GOARCH="+target.goarch)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("build %s for %s: %v\n%s", b.Package, target.name, err, out)
			}
			if target.name == "arm64" {
				b.Arm64 = out
			} else {
				b.Host = out
			}
		}
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
