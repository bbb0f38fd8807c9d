package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/infra/local/fixtures"
	"github.com/eventhub/eventhub/infra/local/stack"
	"github.com/eventhub/eventhub/infra/local/template"
)

var update = flag.Bool("update", false, "rewrite events/env.json from the template")

// TestMakeInvokeRunsEveryFixture runs what `make invoke` runs without FN and EVENT:
// every fixture in events/ through its function in a stack of its own, each
// answering what events/fixtures.json expects (the command fails otherwise).
func TestMakeInvokeRunsEveryFixture(t *testing.T) {
	needStack(t)
	all, err := fixtures.Load("../events")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Load("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tpl.Functions {
		found := false
		for _, fx := range all {
			found = found || fx.Function == f.LogicalID
		}
		if !found {
			t.Errorf("%s has no fixture in events/", f.LogicalID)
		}
	}
	bin := filepath.Join(t.TempDir(), "eventhub-local")
	if out, err := exec.Command("go", "build", "-o", bin, "../infra/local").CombinedOutput(); err != nil {
		t.Fatalf("build infra/local: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "invoke")
	cmd.Dir = ".."
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("make invoke: %v\n%s", err, tail(out.String(), 120))
	}
	if !strings.Contains(out.String(), fmt.Sprintf(`"every fixture answered as expected" fixtures=%d`, len(all))) {
		t.Errorf("make invoke did not report every fixture:\n%s", tail(out.String(), 60))
	}
}

// TestSAMEnvJSON keeps events/env.json what `make run` gives sam local invoke with its
// default ports: every variable the template declares for each function, pointing at
// host.docker.internal. go test ./tests -run TestSAMEnvJSON -update rewrites it.
func TestSAMEnvJSON(t *testing.T) {
	needStack(t)
	ports := map[string]int{local.DynamoDB: stack.DefaultPorts.DynamoDB, local.SQS: stack.DefaultPorts.SQS,
		local.EventBridge: stack.DefaultPorts.EventBridge, local.Lambda: stack.DefaultPorts.Lambda, local.APIURL: 3000}
	env := fixtures.SAMEnv(local)
	for fn, vars := range env {
		for k, v := range vars {
			for endpoint, port := range ports {
				u, _ := url.Parse(endpoint)
				v = strings.ReplaceAll(v, fixtures.SAMHost+":"+u.Port(), fmt.Sprintf("%s:%d", fixtures.SAMHost, port))
				v = strings.ReplaceAll(v, "localhost:"+u.Port(), fmt.Sprintf("localhost:%d", port)) // queue URLs
			}
			if strings.Contains(v, "127.0.0.1") {
				t.Errorf("%s %s = %q: inside SAM's container 127.0.0.1 is the container", fn, k, v)
			}
			env[fn][k] = v
		}
	}
	got, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile("../events/env.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("../events/env.json")
	if err != nil {
		t.Fatalf("%v (go test ./tests -run TestSAMEnvJSON -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("events/env.json is not what make run gives sam local invoke:\n%s\nwant (go test ./tests -run TestSAMEnvJSON -update)\n%s", want, got)
	}
	for _, fn := range []string{"IngestFunction", "ApiFunction"} {
		if env[fn]["AWS_ENDPOINT_URL_DYNAMODB"] != fmt.Sprintf("http://%s:%d", fixtures.SAMHost, stack.DefaultPorts.DynamoDB) {
			t.Errorf("%s AWS_ENDPOINT_URL_DYNAMODB = %q", fn, env[fn]["AWS_ENDPOINT_URL_DYNAMODB"])
		}
	}
}
