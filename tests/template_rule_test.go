package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventhub/eventhub/infra/local/stack"
)

// readmeSection returns the README's section under the heading (up to the next
// heading of the same level).
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	section := readme[start+1:]
	level := heading[:strings.IndexByte(heading, ' ')+1]
	if end := strings.Index(section[len(heading):], "\n"+level); end >= 0 {
		section = section[:len(heading)+end]
	}
	return section
}

// codeBlocks returns the contents of the section's fenced code blocks of a language.
func codeBlocks(section, lang string) []string {
	var out []string
	for {
		start := strings.Index(section, "```"+lang+"\n")
		if start < 0 {
			return out
		}
		section = section[start+len(lang)+4:]
		end := strings.Index(section, "\n```")
		if end < 0 {
			return out
		}
		out = append(out, section[:end+1])
		section = section[end+4:]
	}
}

// TestTemplateRuleRoutesAfterRestart adds the README's AWS::Events::Rule (and its
// queue) to a copy of template.yaml and starts the local stack on it twice, with
// the same data directory, as `make run` does: after the restart the template's
// rule routes the matching stored event to the queue, and so does a rule made
// through the API before the restart; other events reach neither.
func TestTemplateRuleRoutesAfterRestart(t *testing.T) {
	needStack(t)
	blocks := codeBlocks(readmeSection(t, "## Routing with your own rules"), "yaml")
	if len(blocks) == 0 {
		t.Fatal(`README's "Routing with your own rules" has no yaml block`)
	}
	resources := blocks[0]
	tpl, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var indented strings.Builder
	for _, line := range strings.SplitAfter(resources, "\n") {
		if strings.TrimSpace(line) != "" {
			indented.WriteString("  ")
		}
		indented.WriteString(line)
	}
	copyOf := strings.Replace(string(tpl), "\nOutputs:\n", "\n"+indented.String()+"\nOutputs:\n", 1)
	dir := t.TempDir()
	tplFile := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(tplFile, []byte(copyOf), 0o644); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("..")
	var out syncBuffer
	opts := stack.Options{
		Root: root, Template: tplFile, APIAddr: "127.0.0.1:0",
		DataDir: filepath.Join(dir, "dynamodb"), BusStateFile: filepath.Join(dir, "eventbridge.json"), BinDir: filepath.Join(dir, "bin"),
		Logger: slog.New(slog.NewTextHandler(&out, nil)), FunctionOutput: &out,
	}
	startStack := func() *stack.Stack {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		st, err := stack.Start(ctx, opts)
		if err != nil {
			t.Fatalf("start the stack on the template copy: %v\n%s", err, tail(out.String(), 80))
		}
		return st
	}

	st := startStack()
	opts.AdminToken = st.AdminToken
	q, ok := st.Queues["OpsQueue"]
	if !ok {
		st.Close()
		t.Fatalf("the stack has no OpsQueue: %v", st.Queues)
	}
	var src struct{ Token string }
	if status := apiCall(t, st, http.MethodPost, "/sources", st.AdminToken, `{"name":"restart","format":"cloudevents"}`, &src); status != http.StatusCreated {
		st.Close()
		t.Fatalf("POST /sources = %d", status)
	}
	eb, _ := awsClients(st)
	_, err = eb.PutRule(t.Context(), &eventbridge.PutRuleInput{Name: aws.String("recovers"), EventBusName: aws.String(st.Bus),
		EventPattern: aws.String(`{"source":["eventhub.persist"],"detail-type":["Event Stored"],"detail":{"event":{"type":["mse:Agent:OutlierRecover"]}}}`)})
	if err == nil {
		_, err = eb.PutTargets(t.Context(), &eventbridge.PutTargetsInput{Rule: aws.String("recovers"), EventBusName: aws.String(st.Bus),
			Targets: []ebtypes.Target{{Id: aws.String("ops"), Arn: aws.String(q.ARN)}}})
	}
	if err != nil {
		st.Close()
		t.Fatalf("a rule through the API: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Logf("close: %v", err)
	}

	st = startStack()
	defer st.Close()
	if !strings.Contains(out.String(), "OutlierRule") && len(st.Template.EventRules) != 1 {
		t.Errorf("the template copy's rule was not read: %+v", st.Template.EventRules)
	}
	_, sq := awsClients(st)
	ids := map[string]string{}
	for _, typ := range []string{"mse:Agent:OutlierEjection", "mse:Agent:OutlierRecover", "mse:Agent:GracefulShutdown"} {
		id := fmt.Sprintf("restart-%d", time.Now().UnixNano())
		body := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"acs.mse","type":%q,"data":{}}`, id, typ)
		var got struct{ IDs []string }
		if status := apiCall(t, st, http.MethodPost, "/events", src.Token, body, &got); status != http.StatusAccepted || len(got.IDs) != 1 {
			t.Fatalf("POST /events after the restart = %d %v (the producer token should have survived too)", status, got)
		}
		ids[typ] = got.IDs[0]
	}
	var types []string
	deadline := time.Now().Add(30 * time.Second)
	for len(types) < 2 && time.Now().Before(deadline) {
		for _, m := range receiveAll(t, sq, st.Queues["OpsQueue"].URL, 5*time.Second) {
			types = append(types, m.Detail.Event.Type)
		}
	}
	time.Sleep(time.Second)
	for _, m := range receiveAll(t, sq, st.Queues["OpsQueue"].URL, time.Second) {
		types = append(types, m.Detail.Event.Type)
	}
	want := map[string]bool{"mse:Agent:OutlierEjection": true, "mse:Agent:OutlierRecover": true}
	if len(types) != 2 || !want[types[0]] || !want[types[1]] || types[0] == types[1] {
		t.Errorf("OpsQueue got %q after the restart; want the ejection (template rule) and the recovery (API rule), not the shutdown\n%s", types, tail(out.String(), 60))
	}
}

// apiCall sends a JSON request to a stack's HTTP API.
func apiCall(t *testing.T, st *stack.Stack, method, path, token, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, st.APIURL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(raw, out)
	}
	return resp.StatusCode
}
