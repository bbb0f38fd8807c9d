package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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
	// hostOnly: a cold-start floor, only measured on this machine.
	hostOnly bool
}

// functionBootstraps lists the template's functions.
func functionBootstraps(tpl *template.Template) []*bootstrap {
	var out []*bootstrap
	for _, f := range tpl.Functions {
		pkg := "./" + strings.TrimSuffix(filepath.ToSlash(f.CodeURI), "/")
		out = append(out, &bootstrap{Name: f.LogicalID, Short: filepath.Base(pkg), Package: pkg})
	}
	return out
}

// build compiles every bootstrap twice with the deployment flags: for linux/arm64 (the
// sizes) and for this machine (the cold starts).
func build(ctx context.Context, root, dir string, bs []*bootstrap) error {
	for _, target := range []struct{ name, goos, goarch string }{
		{"arm64", "linux", "arm64"},
		{"host", "", ""},
	} {
		for _, b := range bs {
			if b.hostOnly && target.name == "arm64" {
				continue
			}
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

// binaryProfile is a size profile of a function's deployment build: the size of its
// code and read-only data by package group, largest first, from an unstripped
// linux/arm64 build (go tool nm -size; the deployment build strips the symbol table,
// not the code).
func binaryProfile(ctx context.Context, root, dir string, b *bootstrap) (string, error) {
	out := filepath.Join(dir, "sizes", b.Short, "bootstrap")
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-o", out, b.Package}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s with symbols: %v\n%s", b.Package, err, msg)
	}
	nm, err := exec.CommandContext(ctx, "go", "tool", "nm", "-size", out).Output()
	if err != nil {
		return "", fmt.Errorf("go tool nm %s: %w", out, err)
	}
	sizes := map[string]int64{}
	var total int64
	for _, line := range strings.Split(string(nm), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || (f[2] != "T" && f[2] != "R" && f[2] != "t" && f[2] != "r") {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		sizes[sizeGroup(f[3])] += n
		total += n
	}
	groups := make([]string, 0, len(sizes))
	for g := range sizes {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b string) int { return int(sizes[b] - sizes[a]) })
	parts := make([]string, 0, 8)
	for _, g := range groups[:min(8, len(groups))] {
		parts = append(parts, fmt.Sprintf("%s %.2f MB", g, float64(sizes[g])/1e6))
	}
	return fmt.Sprintf("%s: %.2f MB; its code and read-only data (%.2f MB, the rest is the runtime's tables for them) by package: %s",
		b.Short, float64(fileSize(b.Arm64))/1e6, float64(total)/1e6, strings.Join(parts, ", ")), nil
}

// sizeGroup is the package group of a symbol: an SDK service, the SDK's core,
// smithy-go, eventhub, or the standard library.
func sizeGroup(sym string) string {
	pkg := sym
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.IndexByte(pkg, '.'); j >= 0 {
		pkg = pkg[:j]
	}
	switch {
	case strings.HasPrefix(pkg, sdkServices):
		svc, _, _ := strings.Cut(strings.TrimPrefix(pkg, sdkServices), "/")
		return "service/" + svc
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/"):
		return "aws-sdk-go-v2 core"
	case strings.HasPrefix(pkg, "github.com/aws/smithy-go"):
		return "smithy-go"
	case strings.HasPrefix(pkg, "github.com/aws/aws-lambda-go"):
		return "aws-lambda-go"
	case strings.HasPrefix(pkg, "github.com/eventhub/eventhub/"), pkg == "main":
		return "eventhub"
	case !strings.Contains(strings.SplitN(pkg, "/", 2)[0], "."):
		return "Go runtime and standard library"
	}
	return pkg
}
