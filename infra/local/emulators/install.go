package emulators

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// DynamoDB Local ships inside this npm tarball. The package itself is never installed
// (it depends on the Amplify CLI): the tarball is fetched with npm pack, checked
// against dynamoIntegrity (from `npm view amplify-dynamodb-simulator@2.9.30
// dist.integrity`) and only its emulator/ directory is extracted.
const (
	dynamoPackage   = "amplify-dynamodb-simulator"
	dynamoVersion   = "2.9.30"
	dynamoIntegrity = "sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
)

// Paths under the repository root.
const (
	npmPrefix   = "infra/local"           // package.json and package-lock.json of the npm tools
	cacheSubdir = ".eventhub/cache"       // downloads and extracted tools (git-ignored)
	npmStamp    = ".eventhub-lock-sha256" // in node_modules: the lockfile npm ci installed
	doneMarker  = ".complete"             // in the extracted DynamoDB Local: extraction finished
)

// EnsureInstalled installs what the emulators need: the npm packages of
// infra/local/package-lock.json (npm ci, only when node_modules is missing or the
// lockfile changed) and DynamoDB Local (npm pack, checksum, extract into
// .eventhub/cache). It is idempotent and returns at once when everything is in place;
// concurrent calls, from several processes too, wait for each other.
func EnsureInstalled(ctx context.Context, repoRoot string, logger *slog.Logger) error {
	logger = orDefault(logger)
	cache := filepath.Join(repoRoot, cacheSubdir)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return fmt.Errorf("ensure installed: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cache, "install.lock"))
	if err != nil {
		return fmt.Errorf("ensure installed: %w", err)
	}
	defer unlock()
	if err := ensureNodeModules(ctx, repoRoot, logger); err != nil {
		return err
	}
	return ensureDynamoDBLocal(ctx, repoRoot, logger)
}

func ensureNodeModules(ctx context.Context, repoRoot string, logger *slog.Logger) error {
	prefix := filepath.Join(repoRoot, npmPrefix)
	lock, err := os.ReadFile(filepath.Join(prefix, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("npm packages: %w", err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(prefix, "node_modules", npmStamp)
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm packages: npm not found in PATH: install Node.js 20 or later with npm: %w", err)
	}
	logger.InfoContext(ctx, "installing npm packages", "prefix", prefix)
	start := time.Now()
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", prefix, "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci --prefix %s: %w\n%s", prefix, err, out)
	}
	if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
		return fmt.Errorf("npm packages: %w", err)
	}
	logger.InfoContext(ctx, "installed npm packages", "prefix", prefix, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// dynamoDir is where DynamoDB Local is extracted.
func dynamoDir(repoRoot string) string {
	return filepath.Join(repoRoot, cacheSubdir, "dynamodb-local-"+dynamoVersion)
}

func ensureDynamoDBLocal(ctx context.Context, repoRoot string, logger *slog.Logger) error {
	dir := dynamoDir(repoRoot)
	if marker, err := os.ReadFile(filepath.Join(dir, doneMarker)); err == nil && strings.TrimSpace(string(marker)) == dynamoIntegrity {
		return checkDynamoFiles(dir)
	}
	cache := filepath.Dir(dir)
	tgz := filepath.Join(cache, dynamoPackage+"-"+dynamoVersion+".tgz")
	data, err := os.ReadFile(tgz)
	if err != nil || verifyIntegrity(data, dynamoIntegrity) != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return fmt.Errorf("DynamoDB Local: npm not found in PATH: install Node.js 20 or later with npm: %w", err)
		}
		logger.InfoContext(ctx, "downloading DynamoDB Local", "package", dynamoPackage+"@"+dynamoVersion)
		cmd := exec.CommandContext(ctx, npm, "pack", dynamoPackage+"@"+dynamoVersion, "--pack-destination", cache, "--silent")
		cmd.Dir = cache
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("npm pack %s@%s: %w\n%s", dynamoPackage, dynamoVersion, err, out)
		}
		if data, err = os.ReadFile(tgz); err != nil {
			return fmt.Errorf("DynamoDB Local: %w", err)
		}
		if err := verifyIntegrity(data, dynamoIntegrity); err != nil {
			_ = os.Remove(tgz) // a corrupt download is not kept
			return fmt.Errorf("DynamoDB Local: %s: %w", tgz, err)
		}
	}
	tmp, err := os.MkdirTemp(cache, ".dynamodb-local-")
	if err != nil {
		return fmt.Errorf("DynamoDB Local: %w", err)
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left to remove
	if err := extractEmulator(data, tmp); err != nil {
		return fmt.Errorf("DynamoDB Local: extract %s: %w", tgz, err)
	}
	if err := checkDynamoFiles(tmp); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, doneMarker), []byte(dynamoIntegrity+"\n"), 0o644); err != nil {
		return fmt.Errorf("DynamoDB Local: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("DynamoDB Local: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("DynamoDB Local: %w", err)
	}
	// The extracted files are what is kept; the tarball can be fetched again.
	if err := os.Remove(tgz); err != nil {
		logger.WarnContext(ctx, "could not remove the DynamoDB Local tarball", "path", tgz, "err", err)
	}
	logger.InfoContext(ctx, "installed DynamoDB Local", "dir", dir)
	return nil
}

// verifyIntegrity checks data against an npm integrity string (sha512-<base64>).
func verifyIntegrity(data []byte, integrity string) error {
	algo, b64, ok := strings.Cut(integrity, "-")
	if !ok || algo != "sha512" {
		return fmt.Errorf("unsupported integrity %q", integrity)
	}
	want, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return fmt.Errorf("integrity %q: %w", integrity, err)
	}
	got := sha512.Sum512(data)
	if !bytes.Equal(got[:], want) {
		return fmt.Errorf("checksum mismatch: got sha512-%s, want %s", base64.StdEncoding.EncodeToString(got[:]), integrity)
	}
	return nil
}

// extractEmulator writes the files under package/emulator/ of an npm tarball to dir.
func extractEmulator(tgz []byte, dir string) error {
	const prefix = "package/emulator/"
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name, ok := strings.CutPrefix(h.Name, prefix)
		if !ok || name == "" {
			continue
		}
		if !filepath.IsLocal(name) {
			return fmt.Errorf("unsafe path %q in tarball", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// sqliteNative names the sqlite4java native library DynamoDB Local loads on this host.
func sqliteNative() string {
	arch := map[string]string{"amd64": "amd64", "arm64": "aarch64", "386": "i386"}[runtime.GOARCH]
	switch runtime.GOOS {
	case "linux":
		return "libsqlite4java-linux-" + arch + ".so"
	case "darwin":
		return map[string]string{"amd64": "libsqlite4java-osx-x86_64.dylib", "arm64": "libsqlite4java-osx-aarch64.dylib"}[runtime.GOARCH]
	}
	return ""
}

// checkDynamoFiles confirms dir holds the jar, its libraries and the native sqlite
// library for this host.
func checkDynamoFiles(dir string) error {
	native := sqliteNative()
	if native == "" {
		return fmt.Errorf("DynamoDB Local: no sqlite4java native library for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	for _, f := range []string{"DynamoDBLocal.jar", "DynamoDBLocal_lib/sqlite4java.jar", "DynamoDBLocal_lib/" + native} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("DynamoDB Local: %s missing in %s (run EnsureInstalled again after deleting that directory): %w", f, dir, err)
		}
	}
	return nil
}

// lockFile takes an exclusive lock on path, waiting for other holders (other
// processes included) until ctx is done.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) // closing releases it anyway
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
