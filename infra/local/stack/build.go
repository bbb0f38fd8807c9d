package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/eventhub/eventhub/infra/local/template"
)

// Build compiles every function's bootstrap for this machine, with the Lambda build
// tags, and returns the binaries by logical id. One `go build` builds them all.
func Build(ctx context.Context, root, binDir string, fns []template.Function, log *slog.Logger) (map[string]string, error) {
	bins := map[string]string{}
	for _, f := range fns {
		pkg := "./" + strings.TrimSuffix(filepath.ToSlash(f.CodeURI), "/")
		out := filepath.Join(binDir, f.LogicalID, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, err
		}
		log.Info("building", "function", f.LogicalID, "package", pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", f.LogicalID, err, b)
		}
		bins[f.LogicalID] = out
	}
	return bins, nil
}

// RepoRoot returns the nearest directory at or above the working directory that holds
// template.yaml.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no template.yaml in this directory or above it")
		}
		dir = parent
	}
}
