package tests

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const sdkService = "github.com/aws/aws-sdk-go-v2/service/"

// linkRule is what one function's bootstrap must link and may link of the SDK.
type linkRule struct {
	calls       []string // service packages whose clients it uses
	mayInvoke   bool     // may link service/lambda
	notPipeline bool
}

// functionLinks are the card's rules (DESIGN.md §0) for each function: the pipeline
// calls AWS through the SDK's service clients, and its functions are chained through
// the bus, never by invoking one another. Only api links service/lambda, for
// POST /pipeline/redrive, which re-invokes the function a Lambda on-failure record
// names.
var functionLinks = map[string]linkRule{
	"ingest":    {calls: []string{"dynamodb", "eventbridge"}},
	"normalize": {calls: []string{"dynamodb", "eventbridge"}},
	"persist":   {calls: []string{"dynamodb", "eventbridge"}},
	"notify":    {calls: []string{"dynamodb", "eventbridge", "sqs"}},
	"api":       {calls: []string{"dynamodb", "eventbridge", "sqs", "lambda"}, mayInvoke: true, notPipeline: true},
	"replay":    {calls: []string{"dynamodb", "sqs"}, notPipeline: true},
}

// TestFunctionsLinkSDKClients builds each function's package graph as `make build`
// does (go list -deps -tags lambda.norpc) and checks it against functionLinks: the
// SDK service packages it calls are linked, service/lambda only where allowed, and
// the SDK's config package (LoadDefaultConfig and its credential chain, which
// boot.AWS does without) nowhere.
func TestFunctionsLinkSDKClients(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the functions' packages")
	}
	dirs, err := os.ReadDir("../functions")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		seen[name] = true
		rule, ok := functionLinks[name]
		if !ok {
			t.Errorf("functions/%s has no entry in functionLinks: say which SDK clients it calls", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(goTool, "list", "-deps", "-tags", "lambda.norpc", "./functions/"+name)
			cmd.Dir = ".."
			out, err := cmd.Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("go list -deps ./functions/%s: %v\n%s", name, err, stderr)
			}
			deps := map[string]bool{}
			for _, p := range strings.Fields(string(out)) {
				deps[p] = true
			}
			for _, svc := range rule.calls {
				if !deps[sdkService+svc] {
					t.Errorf("%s does not link %s%s; it calls that service through the SDK's client", name, sdkService, svc)
				}
			}
			if deps[sdkService+"lambda"] && !rule.mayInvoke {
				what := "a pipeline function never invokes another directly: they are chained through the bus"
				if rule.notPipeline {
					what = "only api invokes functions (POST /pipeline/redrive)"
				}
				t.Errorf("%s links %slambda; %s", name, sdkService, what)
			}
			if deps["github.com/aws/aws-sdk-go-v2/config"] {
				t.Errorf("%s links github.com/aws/aws-sdk-go-v2/config; boot.AWS builds the configuration from the environment without it", name)
			}
			// sdk-go is the CloudEvents tests' oracle, never part of a function.
			for p := range deps {
				if strings.HasPrefix(p, "github.com/cloudevents/sdk-go") {
					t.Errorf("%s links %s; sdk-go is a test dependency only", name, p)
					break
				}
			}
		})
	}
	for name := range functionLinks {
		if !seen[name] {
			t.Errorf("functionLinks names %s, which is not in functions/", name)
		}
	}
}

// awsProtocol matches what code speaking AWS's wire protocols by hand writes: the
// JSON protocols' target header and operation names.
var awsProtocol = regexp.MustCompile(`(?i)X-Amz-Target|AWSEvents\.PutEvents|DynamoDB_20120810`)

// TestNoHandWrittenAWSProtocol keeps the wire protocols in the SDK: no product code
// under functions/ or shared/ names them. Tests may (fakes of AWS answer them).
func TestNoHandWrittenAWSProtocol(t *testing.T) {
	eachProductFile(t, func(path string, src []byte) {
		if m := awsProtocol.Find(src); m != nil {
			t.Errorf("%s has %q: AWS calls go through the SDK's service clients", path, m)
		}
	})
}

// eachProductFile calls f with the path (from the repository's root) and contents of
// every Go file under functions/ and shared/ but the tests.
func eachProductFile(t *testing.T, f func(path string, src []byte)) {
	t.Helper()
	for _, root := range []string{"../functions", "../shared"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f(strings.TrimPrefix(filepath.ToSlash(path), "../"), b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
