package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventhub/eventhub/infra/local/stack"
)

// The local stack shared by the end-to-end tests of this package: started once, on
// free ports, with in-memory tables.
var (
	local    *stack.Stack
	producer string // a producer token
	logs     syncBuffer
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	local, err = stack.Start(ctx, stack.Options{
		Root:             root,
		APIAddr:          "127.0.0.1:0",
		BinDir:           filepath.Join(os.TempDir(), fmt.Sprintf("eventhub-e2e-%d", os.Getpid())),
		Logger:           slog.New(slog.NewTextHandler(&logs, nil)),
		FunctionOutput:   &logs,
		AsyncRetryDelays: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond},
		FailEntry:        busEntries.observe, // fails nothing: records what is put on the bus
		// The tests create subscriptions and post events to them at once: notify
		// checks the subscriptions' version for every event. The template's default
		// (checked at most once a second) is tested by TestSubscriptionsMaxAge.
		Params: map[string]string{"SubscriptionsMaxAgeSeconds": "0"},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start the local stack: %v\n%s", err, tail(logs.String(), 150))
		return 1
	}
	defer local.Close()
	var src struct{ Token string }
	if status := call(nil, http.MethodPost, "/sources", local.AdminToken, `{"name":"e2e","format":"cloudevents","owns":{"prefixes":["/e2e","/sec/","/shop","/iuap/"]}}`, &src); status != http.StatusCreated {
		fmt.Fprintf(os.Stderr, "create source: HTTP %d\n%s", status, tail(logs.String(), 150))
		return 1
	}
	producer = src.Token
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "---- local stack logs (last 150 lines) ----\n%s", tail(logs.String(), 150))
	}
	return code
}

func needStack(t *testing.T) {
	t.Helper()
	if local == nil {
		t.Skip("end-to-end: needs the local stack (not started with -short)")
	}
}

// call sends a JSON request to the local API and decodes the JSON answer into out.
func call(t *testing.T, method, path, token, body string, out any) int {
	status, raw := send(t, method, path, token, "application/json", []byte(body))
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil && t != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return status
}

func send(t *testing.T, method, path, token, contentType string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, local.APIURL+path, bytes.NewReader(body))
	if err != nil {
		if t != nil {
			t.Fatal(err)
		}
		return 0, nil
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if t != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cloudEvent returns a CloudEvent of the type with a unique id.
func cloudEvent(typ string) (id, body string) {
	id = fmt.Sprintf("%s-%d", strings.ReplaceAll(typ, ".", "-"), time.Now().UnixNano())
	return id, fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/e2e/tests","type":%q,"time":"2026-11-23T10:00:00Z","datacontenttype":"application/json","data":{"n":1}}`, id, typ)
}
