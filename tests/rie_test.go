package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventhub/eventhub/infra/local/fixtures"
	"github.com/eventhub/eventhub/infra/local/stack"
	"github.com/eventhub/eventhub/shared/auth"
)

// The official Lambda Runtime Interface Emulator, the runtime `sam local invoke` runs
// functions under in its container, at the version the module proxy serves.
const (
	rieModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

// buildRIE builds aws-lambda-rie from the module cache (go install refuses modules
// whose version list the proxy refuses), or skips when the proxy cannot serve it.
func buildRIE(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", rieModule+"@"+rieVersion).Output()
	if err != nil {
		t.Skipf("the Lambda Runtime Interface Emulator is not available from the module proxy: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: %s", rieModule, out)
	}
	bin := filepath.Join(t.TempDir(), "aws-lambda-rie")
	build := exec.Command("go", "build", "-o", bin, "./cmd/aws-lambda-rie")
	build.Dir = mod.Dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build aws-lambda-rie: %v\n%s", err, out)
	}
	return bin
}

// TestBootstrapsUnderTheRuntimeInterfaceEmulator runs every fixture in events/ through
// its function's bootstrap under AWS's Runtime Interface Emulator, as sam local invoke
// does in its container, with the variables events/env.json gives SAM (pointing at a
// local stack that accepts the fixtures' example credentials, as make run -examples
// does): each answers what events/fixtures.json expects.
func TestBootstrapsUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	needStack(t)
	rie := buildRIE(t)
	all, err := fixtures.Load("../events")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("..")
	binDir := filepath.Join(t.TempDir(), "bin")
	var logs syncBuffer
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{
		Root: root, APIAddr: "127.0.0.1:0", BinDir: binDir, AdminToken: fixtures.ExampleAdminToken,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), FunctionOutput: &logs,
	})
	if err != nil {
		t.Fatalf("start a stack: %v\n%s", err, tail(logs.String(), 60))
	}
	defer st.Close()
	if err := fixtures.Seed(ctx, st); err != nil {
		t.Fatal(err)
	}
	env := st.SAMEnv("127.0.0.1", map[string]string{"ADMIN_TOKEN_SHA256": auth.Hash(fixtures.ExampleAdminToken)})
	byFunction := map[string][]fixtures.Fixture{}
	for _, f := range all {
		byFunction[f.Function] = append(byFunction[f.Function], f)
	}
	for fn, fxs := range byFunction {
		t.Run(fn, func(t *testing.T) {
			invoke := startRIE(t, rie, filepath.Join(binDir, fn, "bootstrap"), env[fn])
			for _, f := range fxs {
				payload, err := os.ReadFile(f.File)
				if err != nil {
					t.Fatal(err)
				}
				if payload, err = fixtures.Prepare(payload, time.Now()); err != nil {
					t.Fatal(err)
				}
				out, err := invoke(payload)
				if err == nil {
					err = f.Check(out, nil)
				}
				if err != nil {
					t.Errorf("%v\n%s", err, tail(logs.String(), 40))
				}
			}
		})
	}
}

// startRIE runs a bootstrap under aws-lambda-rie with the function's variables and
// returns a function that invokes it once.
func startRIE(t *testing.T, rie, bootstrap string, vars map[string]string) func(payload []byte) ([]byte, error) {
	t.Helper()
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	addr := free()
	cmd := exec.Command(rie, "--runtime-api-address", free(), "--runtime-interface-emulator-address", addr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_REGION=" + stack.Region, "AWS_DEFAULT_REGION=" + stack.Region,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_LAMBDA_FUNCTION_TIMEOUT=30"}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("aws-lambda-rie %s:\n%s", filepath.Base(filepath.Dir(bootstrap)), tail(out.String(), 40))
		}
	})
	eventually(t, 20*time.Second, "aws-lambda-rie listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return func(payload []byte) ([]byte, error) {
		resp, err := http.Post("http://"+addr+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var fe struct{ ErrorType, ErrorMessage string }
		if json.Unmarshal(body, &fe) == nil && fe.ErrorType != "" {
			return nil, fmt.Errorf("function error %s: %s", fe.ErrorType, fe.ErrorMessage)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("aws-lambda-rie answered HTTP %d: %s", resp.StatusCode, body)
		}
		return body, nil
	}
}
