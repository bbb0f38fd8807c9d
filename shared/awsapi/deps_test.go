package awsapi_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFunctionsLinkNoSDKService keeps the function bootstraps free of the SDK's
// generated service packages and of feature/dynamodb: their package initialisation
// ran before main in every cold start (issue #7). The SDK's core (aws, the SigV4
// signer) is cheap and allowed.
func TestFunctionsLinkNoSDKService(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./functions/...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/") || strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/feature/dynamodb") {
			t.Errorf("a function links %s", pkg)
		}
	}
}
